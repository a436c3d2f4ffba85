package store

import (
	"context"
	"database/sql"
)

// The report counts files, not attempts: a retry (the `retry` command,
// Retry) is a new document row linked to the row it retries, and the file
// is the first row of that chain. Which row retries which is answered here
// and only here, for the report, by the documents.retry_of column (see
// Retry), so that another way of linking them changes this file alone.

// notARetry is the condition on documents d that d is a file's first
// document, not a retry.
const notARetry = `d.retry_of IS NULL`

// RetryInfo is how a document of the report's window stands in its chain.
type RetryInfo struct {
	// RetryOf is the document this one retries; 0 for a file's first
	// document.
	RetryOf int64
	// Attempts counts the documents of the chain begun by a file's first
	// document (1: never retried); 0 for a retry.
	Attempts int
}

// retryInfo returns, for each document discovered in [from, to) that is a
// retry or was retried, how it stands in its chain, and the newest retry
// of each of those files (whenever it was discovered) with its last poll
// error, by the file's first document's id.
func retryInfo(ctx context.Context, q reportQuerier, from, to string) (map[int64]RetryInfo, map[int64]ReportDocument, error) {
	info := map[int64]RetryInfo{}
	rows, err := q.QueryContext(ctx, `SELECT d.id, d.retry_of FROM documents d
		WHERE d.discovered_at >= ? AND d.discovered_at < ? AND NOT (`+notARetry+`)`, from, to)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, of int64
		if err := rows.Scan(&id, &of); err != nil {
			return nil, nil, err
		}
		info[id] = RetryInfo{RetryOf: of}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	latest, err := latestRetries(ctx, q, from, to, info)
	return info, latest, err
}

// latestRetries reads the newest document of each retried chain begun in
// [from, to) and records each chain's length in info.
func latestRetries(ctx context.Context, q reportQuerier, from, to string, info map[int64]RetryInfo) (map[int64]ReportDocument, error) {
	rows, err := q.QueryContext(ctx, `WITH RECURSIVE chain(root, id) AS (
			SELECT d.id, d.id FROM documents d
			WHERE d.discovered_at >= ? AND d.discovered_at < ? AND `+notARetry+`
			UNION ALL
			SELECT c.root, r.id FROM documents r JOIN chain c ON r.retry_of = c.id
		), latest AS (
			SELECT root, MAX(id) AS id, COUNT(*) AS n FROM chain GROUP BY root HAVING COUNT(*) > 1
		)
		SELECT `+docColumns+`, d.last_poll_error, latest.root, latest.n
		FROM latest JOIN documents d ON d.id = latest.id LEFT JOIN batches b ON b.id = d.batch_id`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]ReportDocument{}
	for rows.Next() {
		var (
			pollErr sql.NullString
			root    int64
			n       int
		)
		doc, err := scanDocument(rows, &pollErr, &root, &n)
		if err != nil {
			return nil, err
		}
		out[root] = ReportDocument{Document: *doc, LastPollError: pollErr.String}
		info[root] = RetryInfo{Attempts: n}
	}
	return out, rows.Err()
}
