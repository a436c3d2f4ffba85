-- 002: polling fallback bookkeeping per submitted document.
ALTER TABLE documents ADD COLUMN poll_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN next_poll_at TEXT;
ALTER TABLE documents ADD COLUMN last_poll_error TEXT;
CREATE INDEX documents_next_poll ON documents (state, next_poll_at);
