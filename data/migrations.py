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


M2_BATCHES = """
CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                 -- sweep
    state TEXT NOT NULL,                -- awaiting_approval | running | syncing | finished | rejected | expired | cancelled
    requester_id TEXT NOT NULL,
    approver_id TEXT,
    channel_id TEXT NOT NULL,
    parent_ts TEXT,                     -- the approval message, updated in place with the progress
    plan TEXT NOT NULL,                 -- JSON: the proposed items, in execution order
    total TEXT NOT NULL,                -- Decimal as text
    sync_key TEXT,                      -- stored before the one ConnectBooster sync is requested
    sync_id INTEGER,
    open_key TEXT,                      -- set while the batch is open: one open sweep at a time
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT,
    decided_at TEXT,
    completed_at TEXT
);
CREATE UNIQUE INDEX batches_one_open ON batches(open_key) WHERE open_key IS NOT NULL;
ALTER TABLE jobs ADD COLUMN batch_id INTEGER REFERENCES batches(id);
ALTER TABLE jobs ADD COLUMN batch_seq INTEGER;   -- the item's index in the batch plan
CREATE INDEX jobs_batch ON jobs(batch_id);
"""


M3_INBOX_DIGEST = """
CREATE TABLE seen_events (
    event_id TEXT PRIMARY KEY,          -- Slack's event_id: a retried delivery is processed once
    seen_at TEXT NOT NULL
);
CREATE TABLE digests (
    day TEXT PRIMARY KEY,               -- the team's local date (YYYY-MM-DD): one digest per day
    posted_at TEXT NOT NULL             -- UTC; the next digest counts completions since this
);
"""


M4_OUTBOX_IN_FLIGHT = """
ALTER TABLE outbox ADD COLUMN in_flight_at_crash INTEGER NOT NULL DEFAULT 0;  -- may show twice in Slack
"""


M5_OUTBOX_TARGET = """
ALTER TABLE outbox ADD COLUMN target TEXT NOT NULL DEFAULT 'plain';  -- data.outbox.Target
"""


M6_RETENTION = """
CREATE INDEX drafts_created ON drafts(created_at);          -- expired drafts are deleted (data/retention.py)
CREATE INDEX outbox_created ON outbox(created_at);          -- delivered rows are pruned after RETENTION_DAYS
CREATE INDEX seen_events_seen ON seen_events(seen_at);      -- so are the Slack event ids already handled
"""


M7_GUIDED_SWEEP = """
ALTER TABLE batches ADD COLUMN sync_from TEXT;      -- guided sweep: the sync date its checklist asks for
ALTER TABLE batches ADD COLUMN checklist_at TEXT;   -- when the checklist was posted (the reminder counts from it)
ALTER TABLE batches ADD COLUMN reminded_at TEXT;    -- its one reminder
ALTER TABLE batches ADD COLUMN confirmed_by TEXT;   -- who confirmed ConnectBooster is done, for the whole batch
"""


M8_MODE = """
-- How a job's ConnectBooster half is done (data.states.Mode), stored instead of inferred. A job made without
-- ConnectBooster has no organization: that is how guided jobs were recognised before this column.
ALTER TABLE jobs ADD COLUMN mode TEXT NOT NULL DEFAULT 'api';
UPDATE jobs SET mode = 'guided' WHERE cb_org_id IS NULL;
ALTER TABLE batches ADD COLUMN mode TEXT NOT NULL DEFAULT 'api';
UPDATE batches SET mode = 'guided'
 WHERE EXISTS (SELECT 1 FROM jobs WHERE jobs.batch_id = batches.id)
   AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.batch_id = batches.id AND jobs.cb_org_id IS NOT NULL);
"""


M13_PEOPLE = """
-- The names Slack sends with each request (a command's user_name, a click's user.username), so the history and
-- the month-end export say who in people's words without asking Slack (users:read is a scope the app does not have).
CREATE TABLE people (
    user_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    seen_at TEXT NOT NULL
);
"""


M14_SWEEP_CONTROLS = """
-- Before approval an approver may leave clients out of a sweep's plan; after it ran, another approver may undo it.
ALTER TABLE batches ADD COLUMN left_out TEXT;          -- JSON: [{qbo_customer_id, client, items, by}] taken out
ALTER TABLE batches ADD COLUMN undo_by TEXT;           -- who undid the sweep (its undo jobs are theirs)
ALTER TABLE batches ADD COLUMN undo_at TEXT;
ALTER TABLE batches ADD COLUMN undo_skipped TEXT;      -- JSON: {item job id: why it is not undone}
ALTER TABLE batches ADD COLUMN undo_confirmed_by TEXT; -- guided mode: who confirmed the undo's one checklist
"""


MIGRATIONS = [
    (1, "jobs, events, oauth tokens, drafts, outbox", M1_CORE),
    (2, "sweep batches, jobs.batch_id", M2_BATCHES),
    (3, "seen Slack events, posted digests", M3_INBOX_DIGEST),
    (4, "outbox: messages in flight when the bot died", M4_OUTBOX_IN_FLIGHT),
    (5, "outbox: which message of the job a row is", M5_OUTBOX_TARGET),
    (6, "indexes for retention: drafts, outbox, seen events by age", M6_RETENTION),
    (7, "batches: guided sweep checklist (sync date, posted, reminded, confirmed by)", M7_GUIDED_SWEEP),
    (8, "jobs and batches: the ConnectBooster mode", M8_MODE),
    (13, "people: the Slack names of who requested, approved and clicked", M13_PEOPLE),
    (14, "batches: clients left out of a plan, the undo of a sweep", M14_SWEEP_CONTROLS),
]
