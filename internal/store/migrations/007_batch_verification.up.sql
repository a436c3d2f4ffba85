-- 007: the outcome of asking the API about a batch (GET /batches/{id}) when
-- its batch.completed never came or disagreed with the daemon's counts.
ALTER TABLE batches ADD COLUMN api_check TEXT;
ALTER TABLE batches ADD COLUMN api_checked_at TEXT;
