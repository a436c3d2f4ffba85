package daemon

import (
	"github.com/docuparse/docuparse-ingest/ingest"
	"github.com/docuparse/docuparse-ingest/internal/bucket"
)

// bucketListed records what a listing of bucket b found, for /metrics
// and, through state_dir's sources.json, for `status`.
func (d *Daemon) bucketListed(l ingest.BucketListing, b *bucket.Bucket) {
	d.metrics.BucketListed(l.Source, l.At, l.Took, l.Objects, l.Requests, l.Err != nil)
	d.listings.Listed(l.Source, b.String(), l.At, l.Objects, l.Err)
}
