-- 001: documents, batches, webhook event journal, CSV commit offsets.
--
-- Portable SQL on purpose: the same statements must run on PostgreSQL (the
-- scale-out path). Times are fixed-width RFC 3339 UTC text so they sort and
-- compare as strings on both. INTEGER PRIMARY KEY becomes BIGSERIAL there.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE batches (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    upload_mode     TEXT    NOT NULL,           -- batch | single
    state           TEXT    NOT NULL,           -- submitting | submitted | abandoned
    api_batch_id    TEXT    UNIQUE,
    file_count      INTEGER NOT NULL,
    byte_count      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      TEXT    NOT NULL,
    submitted_at    TEXT,
    response        TEXT,                       -- raw submit response
    summary         TEXT,                       -- raw batch.completed summary
    summary_at      TEXT
);
CREATE INDEX batches_state ON batches (state, id);

CREATE TABLE documents (
    id               INTEGER PRIMARY KEY,
    source           TEXT    NOT NULL,          -- source name from config
    path             TEXT    NOT NULL,          -- full path or URL
    file_name        TEXT    NOT NULL,
    size_bytes       INTEGER NOT NULL,
    mtime            TEXT    NOT NULL,
    sha256           TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    outcome          TEXT,                      -- completed | failed | rejected | duplicate | vanished
    client_reference TEXT    NOT NULL UNIQUE,
    batch_id         INTEGER REFERENCES batches (id),
    solo             INTEGER NOT NULL DEFAULT 0, -- 1: must be sent in a batch of its own
    document_id      TEXT    UNIQUE,            -- the API's id
    duplicate_of     INTEGER REFERENCES documents (id),
    discovered_at    TEXT    NOT NULL,
    submitted_at     TEXT,
    completed_at     TEXT,
    result_via       TEXT,                      -- webhook | poll
    result           TEXT,                      -- raw `data` object
    api_timestamp    TEXT,
    error_code       TEXT,
    error_message    TEXT,
    exported_at      TEXT,
    updated_at       TEXT    NOT NULL
);
CREATE INDEX documents_state ON documents (state, id);
CREATE INDEX documents_path ON documents (source, path, id);
CREATE INDEX documents_sha256 ON documents (sha256);
CREATE INDEX documents_batch ON documents (batch_id);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    dedupe_key  TEXT NOT NULL UNIQUE,
    delivery_id TEXT,
    event_type  TEXT NOT NULL,                  -- '' when the body could not be parsed
    document_id TEXT,
    batch_id    TEXT,
    received_at TEXT NOT NULL,
    body        BLOB NOT NULL,                  -- the raw, verified bytes
    status      TEXT NOT NULL,                  -- pending | orphan | applied | duplicate | conflict | dead
    applied_at  TEXT,
    note        TEXT
);
CREATE INDEX events_status ON events (status, id);
CREATE INDEX events_document ON events (document_id);
CREATE INDEX events_batch ON events (batch_id);

CREATE TABLE csv_files (
    name           TEXT PRIMARY KEY,            -- path relative to output_dir
    committed_size INTEGER NOT NULL
);
