-- outhook schema, version 1 (SQLite). {prefix} is replaced by
-- Options.TablePrefix. Times are unix nanoseconds (INTEGER), NULL for none.

CREATE TABLE {prefix}endpoints (
    id                   TEXT PRIMARY KEY,
    seq                  INTEGER,
    tenant_id            TEXT NOT NULL,
    name                 TEXT NOT NULL DEFAULT '',
    url                  TEXT NOT NULL,
    events               TEXT NOT NULL DEFAULT '[]',
    method               TEXT NOT NULL,
    content_type         TEXT NOT NULL,
    max_attempts         INTEGER NOT NULL DEFAULT 0,
    headers              TEXT NOT NULL DEFAULT '{}',
    disabled             INTEGER NOT NULL DEFAULT 0,
    disabled_reason      TEXT NOT NULL DEFAULT '',
    disabled_at          INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_success_at      INTEGER,
    last_failure_at      INTEGER,
    last_failure_reason  TEXT NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX {prefix}endpoints_tenant_idx ON {prefix}endpoints (tenant_id, created_at, seq);

CREATE TABLE {prefix}secrets (
    endpoint_id TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    key_id      TEXT NOT NULL DEFAULT '',
    value       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    PRIMARY KEY (endpoint_id, seq)
);

CREATE TABLE {prefix}events (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    tenant_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body       BLOB NOT NULL
);
CREATE INDEX {prefix}events_created_idx ON {prefix}events (created_at);

CREATE TABLE {prefix}deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    lease_token     TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- Claim: pending rows in due order. due_at is next_attempt_at, or the lease
-- expiry while a worker holds the delivery.
CREATE INDEX {prefix}deliveries_claim_idx ON {prefix}deliveries (due_at, id) WHERE state = 'pending';
CREATE INDEX {prefix}deliveries_endpoint_idx ON {prefix}deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX {prefix}deliveries_created_idx ON {prefix}deliveries (created_at DESC, id DESC);
CREATE INDEX {prefix}deliveries_event_idx ON {prefix}deliveries (event_id);
-- Retention: ended rows by age.
CREATE INDEX {prefix}deliveries_ended_idx ON {prefix}deliveries (updated_at) WHERE state <> 'pending';

CREATE TABLE {prefix}attempts (
    id            TEXT PRIMARY KEY,
    delivery_id   TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    endpoint_id   TEXT NOT NULL,
    number        INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_ns   INTEGER NOT NULL,
    status_code   INTEGER NOT NULL,
    response_body TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    success       INTEGER NOT NULL
);
CREATE INDEX {prefix}attempts_delivery_idx ON {prefix}attempts (delivery_id, number);

-- Change counter for Listen: Enqueue and Requeue bump it, Listen polls it.
-- SQLite has one writer at a time, so the single row costs no concurrency.
CREATE TABLE {prefix}signal (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO {prefix}signal (id, seq) VALUES (1, 0);
