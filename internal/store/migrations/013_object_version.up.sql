-- 013: which version of a bucket object a document was taken in as: its
-- ETag (S3, Azure), GCS generation or MD5, prefixed by its kind
-- ("etag:…", "gen:…", "md5:…"). An object replaced under the same key with
-- the same size and modification time (a sub-second rewrite) has another
-- version, so it is read again instead of skipped as known. NULL for
-- files in folders (their identity is dev, inode and ctime) and where the
-- bucket gives none.
ALTER TABLE documents ADD COLUMN version TEXT;
