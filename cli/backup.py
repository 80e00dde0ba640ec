"""`python bot.py backup PATH`: a consistent copy of the database, safe while the bot runs.

SQLite's online backup API copies one snapshot (a read transaction: in WAL mode the running bot keeps writing
meanwhile). The copy is written beside PATH first, checked (`PRAGMA integrity_check`), switched to a single
self-contained file (no -wal), made 0600 and only then renamed onto PATH, so a crash never leaves half a backup
under the real name. Its tokens are encrypted: without the token key (kept apart) it holds no usable token.
"""
from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from config import Settings
from data.db import create_private_file


def backup_database(source: str, dest: str) -> dict:
    """Copy `source` to `dest` (replacing it); returns what the copy holds. RuntimeError when the copy is bad."""
    if not Path(source).is_file():
        raise RuntimeError(f"there is no database at {source} (DATABASE_PATH)")
    target = Path(dest)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private_file(str(partial))
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # pages=-1: the whole snapshot in one step, so it never restarts under the bot's writes
        dst.execute("PRAGMA journal_mode = DELETE")  # one file: no -wal beside the copy
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        counts = {t: dst.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("jobs", "events")}
    finally:
        dst.close()
        src.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the copy failed SQLite's integrity check ({check}); {dest} was not written")
    os.chmod(partial, 0o600)
    os.replace(partial, target)
    return {**counts, "bytes": target.stat().st_size}


def cmd_backup(settings: Settings, path: str) -> int:
    if Path(path).resolve() == Path(settings.database_path).resolve():
        print("the backup path is the database itself; choose another file", file=sys.stderr)
        return 1
    try:
        held = backup_database(settings.database_path, path)
    except (OSError, sqlite3.Error, RuntimeError) as e:
        print(f"backup failed: {e}", file=sys.stderr)
        return 1
    print(f"Backed up {settings.database_path} to {path} (jobs: {held['jobs']}, audit events: {held['events']}, "
          f"{held['bytes']:,} bytes, mode 0600). The QuickBooks tokens in it are encrypted; keep the token key "
          "(TOKEN_ENCRYPTION_KEY or TOKEN_KEY_FILE) safe separately: restoring needs both.")
    return 0
