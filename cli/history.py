"""`python bot.py history [--job N]`: the audit trail."""
from __future__ import annotations

import json

from config import Settings
from data.db import Connections
from data.jobs import JobStore


def cmd_history(settings: Settings, job_id: int | None) -> int:
    store = JobStore(Connections(settings.database_path).get)
    for event in store.events(job_id):
        details = json.dumps(event.details, sort_keys=True)
        print(f"{event.at}  job {event.job_id or '-':>4}  {event.actor or '-':<12} {event.kind:<28} {details}")
    return 0


