"""Benchmark 1: acknowledgement latency of signed /applycredit requests, the bot versus a bare Bolt app.

Both are served the same way (waitress, 16 threads, slack_bolt's WSGI SlackRequestHandler, a 16-thread Bolt
listener executor) and asked alternately in one run while every emulator request takes DELAY seconds, so
each bot command also starts real background work (views.open, the search and the four reads).
Requests go one at a time (closed loop): the figure is the server's time to answer, not a queue's.

    python -m bench.ack [--requests 1000] [--delay 2.0]
"""
from __future__ import annotations

import argparse
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import requests
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bench.rig import CHANNEL, REQUESTER, Rig, deadline, machine, pct, quiet, summary_ms, tmpdir
from edge.server import make_server

TEXT = "Atomar's Best Tackle"
RUN_LIMIT_SECONDS = 600.0  # bounded even if acks are slow: stop sending, report what was measured


def bare_app(rig: Rig) -> tuple[object, str]:
    """A Bolt app that only acks /applycredit, served exactly as Bot.serve_http serves the bot."""
    app = App(client=WebClient(token="xoxb-sandbox", base_url=rig.slack_api), signing_secret=rig.signing_secret,
              token_verification_enabled=False,
              listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="bare-bolt"))

    @app.command("/applycredit")
    def on_command(ack):
        ack()

    server = make_server(SlackRequestHandler(app, path="/slack/events"), host="127.0.0.1", port=0)
    threading.Thread(target=server.run, name="bare-http", daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}/slack/events"


def command_body(rig: Rig, user: str = REQUESTER) -> str:
    """A slash-command form as Slack sends it, with a fresh trigger_id and response_url from the fake Slack."""
    return urlencode({
        "token": "bench", "team_id": "T0SANDBOX", "team_domain": "sandbox", "channel_id": CHANNEL,
        "channel_name": "finance", "user_id": user, "user_name": user.lower(), "command": "/applycredit",
        "text": TEXT, "api_app_id": "A0APPLYCREDIT", "is_enterprise_install": "false",
        "response_url": rig.slack.issue_response_url(CHANNEL, user),
        "trigger_id": rig.slack.issue_trigger_id(user)})


def timed_post(session: requests.Session, url: str, rig: Rig, body: str) -> tuple[float, int]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **rig.driver.sign(body, int(time.time()))}
    start = time.perf_counter()
    resp = session.post(url, data=body, headers=headers, timeout=10)
    return time.perf_counter() - start, resp.status_code


def run(n: int = 1000, delay: float = 2.0) -> dict:
    quiet()
    rig = Rig()
    rig.start_bot(tmpdir("ack") / "bot.db")
    bare_server, bare_url = bare_app(rig)
    bot_s, bare_s = requests.Session(), requests.Session()
    for i in range(20):  # warm-up (connections, imports, the first token refresh) before the delay is armed
        rig.slack.add_user(f"U0WARM{i:04d}", f"warm{i}")
        timed_post(bot_s, rig.bot_url, rig, command_body(rig, f"U0WARM{i:04d}"))
        timed_post(bare_s, bare_url, rig, command_body(rig, f"U0WARM{i:04d}"))
    rig.bot.runner.wait_idle(5)
    rig.qbo.faults.inject("slow", times=None, seconds=delay)
    rig.cb.faults.inject("slow", times=None, seconds=delay)
    pickers_before = len(rig.slack.calls_to("views.update"))
    bot, bare, errors = [], [], {"bot": 0, "bare": 0}
    over = deadline(RUN_LIMIT_SECONDS)
    started = time.monotonic()
    for i in range(n):
        if over():
            break
        # One user per command: the fake Slack, like Slack, replaces a user's modal when they open another.
        user = f"U0BENCH{i:04d}"
        rig.slack.add_user(user, user.lower())
        for name, session, url, out in (("bot", bot_s, rig.bot_url, bot), ("bare", bare_s, bare_url, bare)):
            seconds, status = timed_post(session, url, rig, command_body(rig, user))
            out.append(seconds)
            if status != 200:
                errors[name] += 1
    elapsed = time.monotonic() - started
    done_bg = len(rig.slack.calls_to("views.update")) - pickers_before
    opened = len(rig.slack.calls_to("views.open"))
    failed_opens = len([c for c in rig.slack.calls_to("views.open") if not c["ok"]])
    threads = threading.active_count()
    bare_server.close()
    logging.disable(logging.CRITICAL)  # background lookups still running now fail against stopped fakes
    rig.close()
    ratio = pct(bot, 99) / pct(bare, 99)
    figures = {"n": len(bot), "delay": delay, "elapsed": elapsed, "bot": bot, "bare": bare, "errors": errors,
               "ratio_p99": ratio, "bot_p99": pct(bot, 99), "background_done": done_bg, "opened": opened,
               "failed_opens": failed_opens, "threads": threads}
    report(figures)
    return figures


def report(f: dict) -> None:
    print(f"== 1. acknowledgement latency (emulators answer after {f['delay']:g} s) ==")
    print(f"   bare Bolt (baseline): {summary_ms(f['bare'])}")
    print(f"   the bot             : {summary_ms(f['bot'])}")
    print(f"   non-200 answers     : bot {f['errors']['bot']}, bare {f['errors']['bare']}")
    verdict = "met" if f["ratio_p99"] <= 1.3 else "MISSED"
    print(f"   p99 ratio bot/bare  : {f['ratio_p99']:.2f}  (target <= 1.3: {verdict})")
    print(f"   bot p99 vs Slack 3 s: {f['bot_p99'] / 3:.3f} of the budget")
    print(f"   background          : {f['opened']} views.open ({f['failed_opens']} refused), {f['background_done']} "
          f"pickers/updates finished during {f['elapsed']:.1f} s of sending; {f['threads']} threads alive at the end")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=2.0)
    args = parser.parse_args(argv)
    print(machine())
    run(args.requests, args.delay)


if __name__ == "__main__":
    main()
