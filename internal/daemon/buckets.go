package daemon

import (
	"github.com/docuparse/docuparse-ingest/ingest"
)

// bucketListed records what a bucket source's listing found, for
// /metrics.
func (d *Daemon) bucketListed(l ingest.BucketListing) {
	d.metrics.BucketListed(l.Source, l.At, l.Took, l.Objects, l.Requests, l.Err != nil)
}
