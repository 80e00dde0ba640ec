"""Migrations from number 9 on (data/migrations.py holds 1-8 and the list): the same rules, append-only."""
from __future__ import annotations

M9_CREDIT_WATCH = """
-- the index of open credits QuickBooks has (credit memos with credit left, payments with an unapplied
-- amount), kept fresh by webhooks and change data capture; the webhook events stored before the 200 is answered;
-- the CDC cursor. data/credit_index.py.
CREATE TABLE open_credits (
    credit_key TEXT PRIMARY KEY,        -- "credit_memo:150" (data.jobs.credit_key)
    kind TEXT NOT NULL,
    qbo_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    number TEXT NOT NULL,
    txn_date TEXT NOT NULL,
    total TEXT NOT NULL,                -- Decimal as text
    remaining TEXT NOT NULL,
    currency TEXT NOT NULL,
    noticed_at TEXT,                    -- became open after the first full read: it is proposed (once)
    updated_at TEXT NOT NULL
);
CREATE INDEX open_credits_customer ON open_credits(customer_id);
CREATE TABLE qbo_notices (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,      -- CloudEvents id (kept across Intuit's retries); legacy: a hash
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    received_at TEXT NOT NULL,
    processed_at TEXT
);
CREATE INDEX qbo_notices_pending ON qbo_notices(processed_at);
CREATE TABLE qbo_cursor (
    name TEXT PRIMARY KEY,              -- "cdc": changes are read from here on
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""


M10_PROPOSALS = """
-- a proposal is a batch (kind 'proposal') of one credit's planned applications; one per credit, ever.
ALTER TABLE batches ADD COLUMN credit_key TEXT;
CREATE UNIQUE INDEX batches_one_proposal_per_credit ON batches(credit_key) WHERE credit_key IS NOT NULL;
ALTER TABLE batches ADD COLUMN outcome TEXT;            -- why a proposal closed without its buttons
ALTER TABLE batches ADD COLUMN details TEXT;            -- JSON: a proposal's credit (client, kind, number, amount)
ALTER TABLE batches ADD COLUMN first_approver_id TEXT;  -- above DUAL_APPROVAL_ABOVE: the first of two
ALTER TABLE jobs ADD COLUMN first_approver_id TEXT;
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


M11_CONNECTION = """
-- The QuickBooks connection's life: both expiries of the refresh token, when it was last refreshed
-- (QBO_KEEPALIVE_DAYS counts from it), and the connection's state: lapsed (Intuit refused it) and warned.
ALTER TABLE oauth_tokens ADD COLUMN refresh_hard_expires_at REAL;   -- Intuit's five-year cap, epoch seconds
ALTER TABLE oauth_tokens ADD COLUMN refreshed_at REAL;              -- the last token answer, epoch seconds
CREATE TABLE qbo_connection (
    realm_id TEXT PRIMARY KEY,
    lapsed_at REAL,                     -- Intuit refused the stored connection (invalid_grant); NULL: connected
    lapsed_code TEXT,
    warned_expiry REAL,                 -- the expiry last announced in NOTIFY_CHANNEL
    warned_days REAL                    -- the smallest threshold (days) announced for it
);
"""


M12_OAUTH_STATES = """
-- One-time `state` values of /applycredit connect: bound to the admin, single use, expiring. Only a hash of
-- the secret part is stored, so the database cannot be used to finish someone's authorization.
CREATE TABLE oauth_states (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
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


LATER = [
    (9, "open credits index, QuickBooks webhook events, CDC cursor", M9_CREDIT_WATCH),
    (10, "proposals (batches.credit_key, outcome), first of two approvals", M10_PROPOSALS),
    (11, "oauth tokens: hard expiry, last refresh; the state of the QuickBooks connection", M11_CONNECTION),
    (12, "one-time OAuth states of /applycredit connect", M12_OAUTH_STATES),
    (13, "people: the Slack names of who requested, approved and clicked", M13_PEOPLE),
    (14, "batches: clients left out of a plan, the undo of a sweep", M14_SWEEP_CONTROLS),
]
