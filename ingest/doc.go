// Package ingest owns the way in: sources that find files (a watched folder
// tree; buckets later), the settle step that waits until a file stops
// changing, intake (hash, dedupe, local refusals, recording the file as
// queued), and the batcher and submitter that group queued documents and
// upload them to the DocuParse API with bounded concurrency.
//
// It does not receive webhooks, poll for results or write outputs: its job
// ends when a document is recorded as submitted (or rejected or vanished).
// Every step writes its intention to the store before its side effect, so a
// restart resumes from the store and the folder alone.
package ingest
