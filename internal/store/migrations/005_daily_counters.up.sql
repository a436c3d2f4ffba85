-- 005: the nightly reconciliation report.
--
-- daily_counters keeps per-day tallies of things that are deliberately not
-- stored as events (a delivery with a bad signature, too large or not a
-- delivery at all stores nothing), so the report can still show them. day
-- is the calendar day in the report's time zone, "2006-01-02".
CREATE TABLE daily_counters (
    day   TEXT    NOT NULL,
    name  TEXT    NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, name)
);

-- The report selects one day's documents by discovery time and one day's
-- deliveries by arrival time. Both columns are written once and grow with
-- the clock, so each index only appends at its right edge.
CREATE INDEX documents_discovered ON documents (discovered_at);
CREATE INDEX events_received ON events (received_at);
