-- 004: the document and batch indexes of the event journal serve only the
-- adoption of orphans, so they cover only orphans. A delivery on the hot
-- path (journaled as pending) then maintains two indexes fewer.
-- Partial indexes exist in PostgreSQL too.
DROP INDEX events_document;
DROP INDEX events_batch;
CREATE INDEX events_orphan_document ON events (document_id) WHERE status = 'orphan';
CREATE INDEX events_orphan_batch ON events (batch_id) WHERE status = 'orphan';
