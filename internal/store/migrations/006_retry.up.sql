-- 006: a retry is a new document linked to the one it retries (the
-- `retry` command). NULL for every document taken in by intake. The index
-- serves "has this document been retried already?" and covers only the
-- retries themselves (partial indexes exist in PostgreSQL too).
ALTER TABLE documents ADD COLUMN retry_of INTEGER REFERENCES documents (id);
CREATE INDEX documents_retry_of ON documents (retry_of) WHERE retry_of IS NOT NULL;
