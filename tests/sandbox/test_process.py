"""The emulators also run as a process of their own."""
import re
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_python_m_sandbox_serves_both_emulators():
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--fast"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(5)]
        qbo = re.search(r"emulator\s+(http://127\.0\.0\.1:\d+)", lines[0]).group(1)
        cb = re.search(r"emulator\s+(http://127\.0\.0\.1:\d+/api/v1)", lines[2]).group(1)
        discovery = requests.get(f"{qbo}/.well-known/openid_configuration", timeout=5).json()
        assert discovery["token_endpoint"].startswith(qbo)
        orgs = requests.get(f"{cb}/organizations", params={"search": "Atomar's Best"}, timeout=5,
                            headers={"Authorization": "Bearer sandbox-cb-key"}).json()
        assert [o["name"] for o in orgs["data"]] == ["Atomar's Best Tackle"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
