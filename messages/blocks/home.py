"""The App Home tab: requests waiting for me, my requests, jobs needing attention, recent completions."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from data.jobs import Job
from data.states import JobState
from messages.blocks.common import context, esc, fmt, header, section
from messages.blocks.connection import home_banner
from messages.blocks.digest import checklist_row
from messages.blocks.job import STATE_LABEL

PER_LIST = 10


@dataclass
class HomeData:
    user: str
    approver: bool
    waiting: list[Job]      # awaiting my approval (approvers only; never my own requests)
    mine: list[Job]         # my requests, newest first
    attention: list[Job]
    recent: list[Job]       # verified, newest first
    checklists: list = field(default_factory=list)  # guided sweeps' checklists unconfirmed for a day (Batch)
    connection: Any = None  # approvers: the QuickBooks connection's status (workflow.connection), for the banner
    tz: str = "UTC"


def permalink(base: str, job: Job) -> str | None:
    """The job's thread parent in Slack, built from the workspace URL (no API call per row)."""
    if not job.parent_ts:
        return None
    return f"{base.rstrip('/')}/archives/{job.channel_id}/p{job.parent_ts.replace('.', '')}"


def job_row(job: Job, base: str, *, show_requester: bool = False) -> dict:
    what = (f"{fmt(job.amount, job.currency)} to invoice {esc(job.invoice_number, 40)}" if job.kind == "apply"
            else f"resync only, credit {esc(job.cb_credit_id)}")
    line = f"*#{job.id}* · *{esc(job.client_name, 80)}* · {what}"
    if show_requester:
        line += f" · requested by <@{job.requester_id}>"
    line += f"\n{STATE_LABEL.get(job.state, esc(job.state))}"
    if job.state == JobState.NEEDS_ATTENTION and job.error:
        line += f": {esc(job.error, 300)}"
    link = permalink(base, job)
    line += f" · <{link}|Open the thread>" if link else f" · in <#{job.channel_id}>"
    return section(line)


def _list(title: str, jobs: list[Job], base: str, empty: str, **kw) -> list[dict]:
    blocks = [section(f"*{title}* ({len(jobs)})")]
    if not jobs:
        return blocks + [context(empty)]
    blocks += [job_row(j, base, **kw) for j in jobs[:PER_LIST]]
    if len(jobs) > PER_LIST:
        blocks.append(context(f"…and {len(jobs) - PER_LIST} more; `python bot.py history` has them all."))
    return blocks


def home_view(data: HomeData, base: str = "https://slack.com/") -> dict:
    blocks: list[dict] = [header("Credit applications"), *home_banner(data.connection, data.tz),
                          context(f"Hello <@{data.user}>. `/applycredit` lists every client with open credits; "
                                  "`/applycredit <client>` opens one.")]
    if data.approver:
        blocks += _list("Waiting for your approval", data.waiting, base, "Nothing is waiting for you.",
                        show_requester=True)
        blocks.append({"type": "divider"})
    blocks += _list("Your requests", data.mine, base, "You have not requested anything yet.")
    blocks.append({"type": "divider"})
    blocks += _list("Needs attention", data.attention, base, "No job needs attention.", show_requester=True)
    blocks += [section(checklist_row(b)) for b in data.checklists[:PER_LIST]]  # guided sweeps waiting a day
    blocks.append({"type": "divider"})
    blocks += _list("Recently completed", data.recent, base, "Nothing completed yet.", show_requester=True)
    return {"type": "home", "blocks": blocks[:100]}
