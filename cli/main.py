"""`python bot.py <command>`: parse, read the settings, dispatch to the command's module."""
from __future__ import annotations

import argparse
import sys

from config import ConfigError, Settings

DESCRIPTION = "applycredit: apply ConnectBooster credits in QuickBooks from Slack"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bot.py", description=DESCRIPTION)
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the sandbox when no credentials are configured)")
    history = sub.add_parser("history", help="print the audit trail: what happened, by whom, when")
    history.add_argument("query", nargs="?", default="", help="#job, an invoice number or part of a client's name")
    history.add_argument("--job", type=int, help="only this job (and its undo)")
    shape = history.add_mutually_exclusive_group()
    shape.add_argument("--json", dest="fmt", action="store_const", const="json", help="JSON, for machines")
    shape.add_argument("--csv", dest="fmt", action="store_const", const="csv", help="CSV, for spreadsheets")
    connect = sub.add_parser("connect-quickbooks", help="connect a QuickBooks company through the browser")
    connect.add_argument("--paste", action="store_true", default=None,
                         help="paste the redirected URL instead of listening on QBO_REDIRECT_URI "
                              "(automatic for an https redirect URI that is not localhost)")
    connect.add_argument("--discard-tokens", action="store_true",
                         help="first delete stored tokens the token key cannot decrypt (the key is lost for good)")
    sub.add_parser("doctor", help="check every setting and credential against the live services; exit 0 if all is "
                                  "well (the sandbox's when nothing is configured)")
    backup = sub.add_parser("backup", help="a consistent copy of the database, safe while the bot runs")
    backup.add_argument("path", help="where to write the copy (a new file; it holds no usable token)")
    return p


def main(argv: list[str] | None, make_bot) -> int:
    """Exit status: 0 done, 1 the command failed (said why), 2 the configuration is wrong."""
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as e:
        print(e, file=sys.stderr)
        return 2
    from cli.run import configure_logging

    configure_logging(settings.log_level)
    if args.command == "history":
        from cli.history import cmd_history

        return cmd_history(settings, args.job, args.query, args.fmt or "table")
    if args.command == "connect-quickbooks":
        from cli.connect import cmd_connect

        return cmd_connect(settings, paste=args.paste, discard=args.discard_tokens)
    if args.command == "doctor":
        from cli.doctor import cmd_doctor

        return cmd_doctor(settings)
    if args.command == "backup":
        from cli.backup import cmd_backup

        return cmd_backup(settings, args.path)
    from cli.run import cmd_run

    try:
        return cmd_run(settings, make_bot)
    except ConfigError as e:  # found while starting: e.g. a token key that does not fit the database
        print(e, file=sys.stderr)
        return 2
