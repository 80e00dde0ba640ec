"""SQLite through sqlite-utils: one Database per thread or unit of work, WAL, numbered migrations.

The file is created with mode 0600 (it holds OAuth tokens). Migrations are append-only: never edit a
shipped one, add the next number. `open_db` runs any that are missing, safely from several threads.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from data.migrations import MIGRATIONS

_migrate_lock = threading.Lock()
SANDBOX_DATABASE = "data/sandbox.db"  # `make run` with nothing configured: fresh at each start, read by `bot.py history`


def create_private_file(path: str) -> None:
    """Create the database file 0600 before SQLite opens it (SQLite would honour the umask)."""
    if path == ":memory:":
        return
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.exists():
        fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(p, 0o600)


def connect(path: str) -> sqlite_utils.Database:
    """Open a connection for the calling thread: WAL, busy timeout, foreign keys; no migrations."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=True)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    return sqlite_utils.Database(conn)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One transaction: every statement inside commits together, or none does.

    The connections are in autocommit mode (`isolation_level=None`, so a reader never holds a stale snapshot), where
    `with conn:` begins nothing and each statement commits on its own: a state change and its audit event would be
    two commits, with a window between them. BEGIN IMMEDIATE takes the write lock up front (busy_timeout waits for
    it), where sqlite-utils' `atomic()` issues a deferred BEGIN: a transaction that reads before it writes could
    then fail at once with SQLITE_BUSY in WAL mode. Nested use joins the transaction already open."""
    conn = db.conn
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def open_db(path: str) -> sqlite_utils.Database:
    """Create the file if needed (0600), switch on WAL, run pending migrations, return a connection."""
    create_private_file(path)
    db = connect(path)
    if path != ":memory:":
        db.enable_wal()
    migrate(db)
    for suffix in ("-wal", "-shm"):  # SQLite creates these with the umask; they hold the same data
        side = Path(path + suffix)
        if side.exists():
            os.chmod(side, 0o600)
    return db


def _recorded(db: sqlite_utils.Database, number: int) -> bool:
    return db.execute("SELECT 1 FROM _migrations WHERE number = ?", [number]).fetchone() is not None


def migrate(db: sqlite_utils.Database) -> list[int]:
    """Apply every migration not yet recorded; returns the numbers applied. Safe to call twice."""
    applied: list[int] = []
    with _migrate_lock:
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (number INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
        for number, name, sql in MIGRATIONS:
            if _recorded(db, number):
                continue
            # One script, one transaction: the schema change and its record commit together.
            script = (
                f"BEGIN IMMEDIATE;\n{sql}\n"
                f"INSERT INTO _migrations VALUES ({number}, '{name}', strftime('%Y-%m-%dT%H:%M:%fZ','now'));\nCOMMIT;"
            )
            try:
                db.conn.executescript(script)
            except sqlite3.Error:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                if not _recorded(db, number):  # another process may have applied it first
                    raise
                continue
            applied.append(number)
    return applied


class Connections:
    """Hands each thread its own Database for one path (sqlite3 connections belong to one thread)."""

    def __init__(self, path: str, opener: Callable[[str], sqlite_utils.Database] = connect) -> None:
        self.path = path
        open_db(path).close()  # create, secure and migrate once, up front
        self._opener = opener
        self._local = threading.local()

    def get(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._opener(self.path)
        return db
