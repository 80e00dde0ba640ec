"""The HTTP edge probes: unsigned bodies, unsigned logs, idle connections, /healthz's methods.

Each runs a real `bot.py run` in HTTP mode and records its figures for docs/reliability.md.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests

from sandbox.run import CHANNEL, REQUESTER
from tests.reliability.harness import wait_all
from tests.reliability.http_probe import closed_by_server, half_open, post_streaming, rss_mb

GROUP = "HTTP edge: unsigned means unread, no starving connections"
# The probe's size; PROBE_BODY_MB=40 reproduces it on the old code without taking the machine's memory.
BODY_MB = int(os.environ.get("PROBE_BODY_MB", "400"))


def _port(pb) -> int:
    return int(pb.env["PORT"])


@pytest.mark.slow
def test_unsigned_giant_bodies_are_refused_before_they_are_read(process_bot, figures):
    pb = process_bot(LOG_LEVEL="DEBUG")
    requests.get(f"http://127.0.0.1:{_port(pb)}/healthz", timeout=5)
    before, log_before = rss_mb(pb.proc.pid), pb.log.stat().st_size
    size = BODY_MB * 2**20
    with ThreadPoolExecutor(8) as pool:  # four declared by Content-Length, four chunked, all at once
        runs = list(pool.map(lambda chunked: post_streaming(_port(pb), size, chunked=chunked), [False, True] * 4))
    after, grown = rss_mb(pb.proc.pid), pb.log.stat().st_size - log_before
    statuses = sorted({status for status, _ in runs})
    most = max(sent for _, sent in runs) / 2**20
    figures.record(GROUP, f"8 unsigned POSTs of {BODY_MB} MB at once (4 Content-Length, 4 chunked), cap 1 MB",
                   times=8, jobs=0, payments=0, duplicates=0, lost=0,
                   outcome=f"HTTP {statuses} after at most {most:.1f} MB sent; peak RSS {before:.0f} → {after:.0f} "
                           f"MB; log +{grown} bytes")
    assert statuses == [413], runs
    assert most < 16  # refused at the cap (what the kernel's socket buffers took before the answer was seen)
    assert after - before < 25, (before, after)
    assert grown < 4096


@pytest.mark.slow
def test_unsigned_and_replayed_requests_reach_no_log_line_at_debug(process_bot, figures):
    pb = process_bot(LOG_LEVEL="DEBUG")
    mark = "Zanzibar-Quokka-4321.17"
    log_before = pb.log.stat().st_size
    bodies = [urlencode({"command": "/applycredit", "text": mark + "x" * 900_000, "user_id": REQUESTER})] * 5
    wrong = [pb.driver.post_raw(b, {"Content-Type": "application/x-www-form-urlencoded",
                                    "X-Slack-Signature": "v0=" + "0" * 64,
                                    "X-Slack-Request-Timestamp": str(int(time.time()))}) for b in bodies]
    # A signed submission replayed 6 minutes later: amount and note in its payload.
    payload = urlencode({"payload": '{"type":"view_submission","view":{"state":{"values":{"amount":'
                                    f'{{"amount":{{"value":"4321.17"}}}},"note":{{"note":{{"value":"{mark}"}}}}}}}}}}}}'})
    old = int(time.time()) - 360
    replay = pb.driver.post_raw(payload, {"Content-Type": "application/x-www-form-urlencoded",
                                          **pb.driver.sign(payload, old)})
    text = pb.log.read_text(errors="replace")[log_before:]
    grown = pb.log.stat().st_size - log_before
    figures.record(GROUP, "5 unsigned 0.9 MB POSTs and a signed submission replayed after 6 minutes, LOG_LEVEL=DEBUG",
                   times=6, jobs=0, payments=0, duplicates=0, lost=0,
                   outcome=f"HTTP {sorted({r.status for r in wrong})} and {replay.status}; log +{grown} bytes; "
                           f"body or amount in the log: {'yes' if mark in text or '4321.17' in text else 'no'}")
    assert {r.status for r in wrong} == {401} and replay.status == 401
    assert mark not in text and "4321.17" not in text and "xxxxxxxx" not in text
    assert grown < 4096, text[-2000:]


@pytest.mark.slow
def test_idle_connections_do_not_starve_slack_and_are_closed(process_bot, figures):
    pb = process_bot(HTTP_MAX_CONNECTIONS="100", HTTP_IDLE_SECONDS="2")
    idle = half_open(_port(pb), 120)  # more than the limit: waitress alone stopped accepting at 100
    start = time.monotonic()
    resp = pb.driver.command(REQUESTER, CHANNEL, "help")  # a signed /applycredit (requests' timeout: 10 s)
    answered = time.monotonic() - start
    made_room = sum(1 for s in idle if closed_by_server(s))
    wait_all(lambda: all(closed_by_server(s) for s in idle), timeout=15)
    closed_after = time.monotonic() - start
    for s in idle:
        s.close()
    figures.record(GROUP, "120 half-open connections (limit 100, idle 2 s), then a signed /applycredit", times=121,
                   jobs=0, payments=0, duplicates=0, lost=0,
                   outcome=f"answered HTTP {resp.status} in {answered:.2f} s; {made_room} idle closed to make room; "
                           f"all idle closed after {closed_after:.1f} s")
    assert resp.status == 200 and "applycredit" in resp.text
    assert made_room >= 1


def test_healthz_answers_get_and_head_only(world_http):
    base = world_http.driver.bot_url.rsplit("/slack/events", 1)[0]
    answers = {m: requests.request(m, f"{base}/healthz", timeout=5).status_code
               for m in ("GET", "HEAD", "TRACE", "PUT", "DELETE", "OPTIONS", "POST")}
    assert answers == {"GET": 200, "HEAD": 200, "TRACE": 405, "PUT": 405, "DELETE": 405, "OPTIONS": 405,
                       "POST": 405}
    assert requests.get(f"{base}/slack/events", timeout=5).status_code == 405
    assert requests.get(f"{base}/../etc/passwd", timeout=5).status_code in (400, 404)


@pytest.fixture
def world_http(tmp_path):
    from tests.scenarios.world import World

    w = World(tmp_path, transport="http")
    yield w
    w.close()
