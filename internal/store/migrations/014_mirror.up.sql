-- 014: the mirror of the outputs into output_url's bucket (internal/mirror).
-- One row per object: written with mirrored_at NULL before the upload
-- starts (the intention: which local file, which bytes — size and SHA-256),
-- and mirrored_at set once the bucket holds those bytes (the result). A row
-- still NULL after a crash or an outage is uploaded again, after a look at
-- the key: an object already there with the intended bytes is recorded,
-- never written twice. conflict says why a key holds other bytes (someone
-- else's object): it is left alone, and the row is not tried again.
CREATE TABLE mirror (
    object_key     TEXT PRIMARY KEY,          -- key below output_url's prefix
    kind           TEXT    NOT NULL,          -- result | csv | report
    local_rel_path TEXT    NOT NULL,          -- the file, relative to output_dir
    size           INTEGER NOT NULL,
    sha256         TEXT    NOT NULL,
    intended_at    TEXT    NOT NULL,
    mirrored_at    TEXT,
    conflict       TEXT
);
CREATE INDEX mirror_pending ON mirror (intended_at, object_key) WHERE mirrored_at IS NULL AND conflict IS NULL;
CREATE INDEX mirror_local ON mirror (local_rel_path);
