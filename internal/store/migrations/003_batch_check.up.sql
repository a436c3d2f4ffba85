-- 003: the outcome of checking a batch.completed summary against the
-- daemon's own per-batch counts: NULL until checked, then 'match' or
-- 'mismatch: …'.
ALTER TABLE batches ADD COLUMN summary_check TEXT;
ALTER TABLE batches ADD COLUMN checked_at TEXT;
