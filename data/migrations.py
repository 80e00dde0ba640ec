"""Numbered, append-only schema migrations: (number, name, SQL script). Never edit a shipped one."""
from __future__ import annotations

M1_CORE = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                 -- apply | resync_only | undo
    state TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    approver_id TEXT,
    channel_id TEXT NOT NULL,
    parent_ts TEXT,                     -- the approval message: parent of the job's thread
    client_name TEXT NOT NULL,
    qbo_customer_id TEXT NOT NULL,
    cb_org_id INTEGER,
    credit_kind TEXT NOT NULL,          -- credit_memo | unapplied_payment
    qbo_credit_id TEXT NOT NULL,
    cb_credit_id INTEGER,
    credit_number TEXT,
    invoice_qbo_id TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    cb_invoice_id INTEGER,
    amount TEXT NOT NULL,               -- Decimal as text
    currency TEXT NOT NULL,
    note TEXT,
    invoice_total TEXT,
    invoice_balance_before TEXT,
    credit_remaining_before TEXT,
    invoice_balance_after TEXT,
    qbo_request_id TEXT,                -- stored before the QuickBooks write
    qbo_payment_id TEXT,
    cb_resync_key TEXT,
    cb_resync_id INTEGER,
    sync_key TEXT,
    sync_id INTEGER,
    sync_from TEXT,
    undo_of INTEGER REFERENCES jobs(id),
    attempt INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    retryable INTEGER NOT NULL DEFAULT 0,
    resume_state TEXT,                  -- where Retry sends a job that needs attention
    applied_at TEXT,                    -- when the QuickBooks write was confirmed
    open_credit_key TEXT,               -- set while the job is open: one open job per credit
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT,
    decided_at TEXT,
    completed_at TEXT
);
CREATE UNIQUE INDEX jobs_one_open_per_credit ON jobs(open_credit_key) WHERE open_credit_key IS NOT NULL;
CREATE INDEX jobs_state ON jobs(state);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    job_id INTEGER REFERENCES jobs(id),
    at TEXT NOT NULL,
    actor TEXT,                         -- Slack user id, or 'bot'
    kind TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'  -- JSON
);
CREATE INDEX events_job ON events(job_id);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE oauth_tokens (
    realm_id TEXT PRIMARY KEY,
    access_token TEXT,
    access_expires_at REAL,
    refresh_token TEXT NOT NULL,
    refresh_expires_at REAL,
    updated_at TEXT NOT NULL
);

CREATE TABLE drafts (
    id TEXT PRIMARY KEY,                -- random token carried by the picker's buttons
    user_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    data TEXT NOT NULL,                 -- JSON snapshot: client, credits, invoices
    created_at TEXT NOT NULL
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    job_id INTEGER,
    dedupe_key TEXT UNIQUE,             -- one delivery per job step
    method TEXT NOT NULL,               -- chat.postMessage | chat.update | chat.postEphemeral
    payload TEXT NOT NULL,              -- JSON
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    result_ts TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX outbox_pending ON outbox(state, next_attempt_at);
"""


MIGRATIONS = [
    (1, "jobs, events, oauth tokens, drafts, outbox", M1_CORE),
]
