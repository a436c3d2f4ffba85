-- 010: what each CSV file's committed bytes end with. tail_sha256 is the
-- hex SHA-256 of the last 4096 bytes before committed_size; '' when not
-- known (files written before this migration, and the row recorded before
-- a new file's first append). With it, recovery tells the daemon's own
-- interrupted append (cut back) from someone else's edit (left alone).
ALTER TABLE csv_files ADD COLUMN tail_sha256 TEXT NOT NULL DEFAULT '';
