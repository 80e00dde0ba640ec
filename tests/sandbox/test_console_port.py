"""`make run` with CONSOLE_PORT held by another program: the sandbox still starts, on a free port it prints."""
from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from sandbox.serving import LoopbackServer

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = re.compile(r"the console: open (http://127\.0\.0\.1:(\d+)/) in a browser")


def test_a_loopback_server_on_a_taken_port_raises_instead_of_exiting():
    with socket.create_server(("127.0.0.1", 0)) as held:
        server = LoopbackServer(lambda environ, start: [], name="t")
        with pytest.raises(OSError):  # werkzeug alone would sys.exit(1) here
            server.start(held.getsockname()[1])
        assert server.start(0) != held.getsockname()[1]
        server.stop()


def _lines(proc: subprocess.Popen) -> queue.Queue:
    found: queue.Queue = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            found.put(line)

    threading.Thread(target=read, daemon=True).start()
    return found


@pytest.mark.slow  # a whole `bot.py run` sandbox: scheduled first
def test_make_run_with_the_console_port_taken_uses_a_free_one_and_prints_it(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as held:
        port = held.getsockname()[1]
        env = {"PATH": os.environ["PATH"], "CONSOLE_PORT": str(port), "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "run"], cwd=tmp_path, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            lines, out, deadline = _lines(proc), [], time.monotonic() + 60
            while not any("Ctrl-C stops everything" in line for line in out) and time.monotonic() < deadline \
                    and proc.poll() is None:
                try:
                    out.append(lines.get(timeout=1))
                except queue.Empty:
                    continue
            printed = "".join(out)
            match = CONSOLE.search(printed)
            assert match, printed
            url, used = match.group(1), int(match.group(2))
            assert used != port and f"port {port} is taken" in printed
            page = requests.get(url, timeout=5)
            assert page.status_code == 200 and "applycredit" in page.text
            assert proc.poll() is None  # the sandbox runs on
        finally:
            proc.terminate()
            proc.wait(timeout=15)
