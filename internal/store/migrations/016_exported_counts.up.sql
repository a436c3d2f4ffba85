-- 016: `status` and every /metrics scrape count the documents by state and
-- outcome. Exported is the end of the state machine (nothing moves a
-- document out of it), and it is where almost every document is once a
-- store is old, so its documents are counted once, by source and outcome,
-- in the transaction that exports them (Store.MarkExported), and the
-- counts read the documents table only for the other states, through
-- documents_state: the work follows what is in flight, not the store's
-- age. outcome is '' for a document that has none.
CREATE TABLE exported_counts (
    source  TEXT    NOT NULL,
    outcome TEXT    NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (source, outcome)
);
INSERT INTO exported_counts (source, outcome, count)
SELECT source, coalesce(outcome, ''), COUNT(*) FROM documents WHERE state = 'exported' GROUP BY 1, 2;

-- What ended on a day ("today" in status) is found by its completion time.
CREATE INDEX documents_completed ON documents (completed_at);
