-- 012: which file a document was taken in as, beyond its size and mtime:
-- device, inode and change time (ctime). A different file copied over with
-- the same size and mtime (cp -p, rsync -t, unzip) has another inode or a
-- newer ctime, so it is read again instead of skipped as known. NULL =
-- unknown (rows written before this migration): only what is known is
-- compared. dev and inode hold the 64-bit values' bit patterns.
ALTER TABLE documents ADD COLUMN dev INTEGER;
ALTER TABLE documents ADD COLUMN inode INTEGER;
ALTER TABLE documents ADD COLUMN ctime TEXT;
