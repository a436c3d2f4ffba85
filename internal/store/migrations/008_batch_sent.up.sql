-- 008: when a batch's key was first used. Before it, a crash means the API
-- never saw the batch; after it, only the API's answer (a replay of the key)
-- tells whether a file that has since vanished was uploaded.
ALTER TABLE batches ADD COLUMN sent_at TEXT;
