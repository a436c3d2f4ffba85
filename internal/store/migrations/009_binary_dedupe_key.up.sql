-- 009: the webhook journal's hot path. An event's dedupe key was unique
-- and indexed: every delivery inserted into that index at a random place
-- (SHA-256 keys), dirtying one more page per delivery — the largest cost
-- of journaling at load (docs/benchmarks.md). The journal now tells
-- recent repeats apart in memory (store.recentKeys) and the state machine
-- makes any older repeat harmless, so the key keeps no index, and it is
-- stored as the digest's 32 bytes instead of 71 characters of "sha256:"
-- and hex. SQLite cannot drop a constraint or change a column's type in
-- place, so the table is rebuilt with its ids; old keys are converted so
-- that the window read back after a start still recognises a retry of an event
-- journaled before the upgrade. unhex() is SQLite's; PostgreSQL would use
-- decode(…, 'hex').
CREATE TABLE events_new (
    id          INTEGER PRIMARY KEY,
    dedupe_key  BLOB NOT NULL,                  -- SHA-256 of the raw body
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
INSERT INTO events_new (id, dedupe_key, delivery_id, event_type, document_id, batch_id, received_at, body, status, applied_at, note)
SELECT id,
       CASE WHEN dedupe_key LIKE 'sha256:%' AND length(dedupe_key) = 71
            THEN coalesce(unhex(substr(dedupe_key, 8)), CAST(dedupe_key AS BLOB))
            ELSE CAST(dedupe_key AS BLOB) END,
       delivery_id, event_type, document_id, batch_id, received_at, body, status, applied_at, note
FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_status ON events (status, id);
CREATE INDEX events_orphan_document ON events (document_id) WHERE status = 'orphan';
CREATE INDEX events_orphan_batch ON events (batch_id) WHERE status = 'orphan';
CREATE INDEX events_received ON events (received_at);
