"""Run the emulators alone, as a process: `python -m sandbox [--fast]`.

For pointing another copy of the bot (or any tool built against the contracts) at them; `make run` starts
them in-process together with the bot instead.
"""
from __future__ import annotations

import argparse
import threading

from sandbox.run import Sandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="ConnectBooster syncs in a fraction of a second")
    args = parser.parse_args(argv)
    sandbox = Sandbox(fast=args.fast)
    tokens = sandbox.qbo.mint_tokens()
    print(f"QuickBooks Online emulator  {sandbox.qbo.base_url}  (discovery {sandbox.qbo.discovery_url})")
    print(f"  realm {tokens['realm_id']}; a refresh token for QBO_REFRESH_TOKEN: {tokens['refresh_token']}")
    print(f"ConnectBooster emulator     {sandbox.cb.base_url}  (API key {sandbox.cb.api_key})")
    print(f"Slack Web API (fake)        {sandbox.slack_api}")
    print("These are sandbox values, valid only against these emulators. Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
