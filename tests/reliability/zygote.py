"""A warm interpreter that forks the real-process tests' `bot.py run` processes.

A fresh `python bot.py run` spends ~0.7 s of CPU importing Bolt, requests, sqlite-utils and the bot's modules
before it does anything; the kill and crash tests start ~35 bots, about a tenth of the suite's CPU on a 2-core
machine. The zygote (one per test worker) imports `bot` once and forks one child per start. Each child is an
ordinary process: its own pid, memory, sockets and database connections, everything built by `bot.main(["run"])`
after the fork, killed by SIGKILL without warning. Only the imports are shared, and no test is about them.
FRESH_BOT_PROCESSES=1 starts every bot with a new interpreter instead (`subprocess.Popen`, as before).
"""
from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRESH = os.environ.get("FRESH_BOT_PROCESSES", "") not in ("", "0") or not hasattr(os, "fork")


class Forked:
    """The part of Popen the tests use, for a child of the zygote (the kernel reaps it: SIGCHLD is ignored there)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = -1  # gone; its exit status went to the zygote, not to us
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"bot pid {self.pid}", timeout)
            time.sleep(0.005)
        return self.returncode


_zygote: list[subprocess.Popen] = []
_lock = threading.Lock()


def spawn(env: dict, cwd: Path, log: Path) -> Forked:
    """`bot.py run` with exactly `env`, in `cwd`, stdout and stderr appended to `log`."""
    with _lock:
        if not _zygote or _zygote[0].poll() is not None:
            _zygote[:] = [subprocess.Popen([sys.executable, "-m", "tests.reliability.zygote"], cwd=ROOT,
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)]
            atexit.register(_zygote[0].stdin.close)  # EOF ends the zygote; its bots were killed by their tests
        z = _zygote[0]
        z.stdin.write(json.dumps({"env": env, "cwd": str(cwd), "log": str(log)}) + "\n")
        z.stdin.flush()
        return Forked(int(z.stdout.readline()))


def serve() -> None:
    """The zygote: import the bot, then fork one `bot.py run` per request line; answer with its pid."""
    import bot

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed bots are reaped at once: no zombies answering kill(0)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(bot, request)
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


def _child(bot, request: dict) -> None:
    """In the forked child: become `bot.py run` with the request's environment; never returns."""
    code = 1
    try:
        _die_with_parent()  # the zygote ends when its test worker does: its bots must not outlive it
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        sys.argv = [str(ROOT / "bot.py"), "run"]
        # The sandbox's fake Slack may run its rate tiers N times faster (harness.SLACK_SCALE): the bot's pacer
        # then too, as a World's does; with no scale, exactly `bot.py run`.
        scale = float(os.environ.pop("TEST_SLACK_SCALE", "") or 1)
        if scale == 1:
            code = bot.main(["run"]) or 0
        else:
            from cli.main import main as cli_main
            code = cli_main(["run"], lambda s: bot.Bot(s, bot.Overrides(slack_pace_scale=scale))) or 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the zygote (its parent) exits; elsewhere nothing."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the zygote died before the call: do not run orphaned
            os._exit(1)
    except (OSError, AttributeError):
        pass


if __name__ == "__main__":
    serve()
