-- 010: a document the exporter cannot write (a symbolic link or a folder
-- planted where its JSON file or its day's CSV file goes) is held instead of
-- blocking every later document: export_error says why, for `status`, the
-- report and /metrics; it is tried again at next_export_at, the wait
-- doubling with export_attempts. Both are cleared once it is exported. The
-- partial index serves "how many are held?" on every scrape.
ALTER TABLE documents ADD COLUMN export_error TEXT;
ALTER TABLE documents ADD COLUMN export_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE documents ADD COLUMN next_export_at TEXT;
CREATE INDEX documents_export_held ON documents (id) WHERE export_error IS NOT NULL;
