-- 015: [state] retention (Store.Prune).
--
-- A document's result JSON — most of its bytes — moves to a table of its
-- own, keyed by the document's id. Pruning deletes those rows: old ids are
-- contiguous, so whole pages go to the free list and new results reuse
-- them, and the file stops growing. Emptied in place, inside the
-- documents table, the same bytes would leave every page part-empty and
-- the file as large as before (until a VACUUM). documents.result stays,
-- always NULL now (SQLite drops a column only by rebuilding the table).
CREATE TABLE results (
    doc_id INTEGER PRIMARY KEY,                 -- documents.id
    data   TEXT    NOT NULL                     -- the raw `data` object
);
INSERT INTO results (doc_id, data) SELECT id, result FROM documents WHERE result IS NOT NULL;
UPDATE documents SET result = NULL WHERE result IS NOT NULL;

-- pruned_at: when Prune dropped the document's detail (its results row;
-- the webhook events applied to it and its batch's submit answer go with
-- them); NULL while kept. What dedupe, Known and the reports count by stays
-- on the row. documents_unpruned finds the exported documents (only
-- exporting sets exported_at) still holding their detail, by when they
-- were exported: a pass reads only what it prunes, and a pruned document
-- leaves the index, so with a retention set it holds only the documents
-- inside it.
ALTER TABLE documents ADD COLUMN pruned_at TEXT;
CREATE INDEX documents_unpruned ON documents (exported_at) WHERE exported_at IS NOT NULL AND pruned_at IS NULL;
