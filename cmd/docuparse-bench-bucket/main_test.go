package main

import (
	"strings"
	"testing"
)

// The bench reads the source's bucket series and the documents by state
// from the daemon's /metrics, and nothing of another source.
func TestParseMetricsReadsTheSourcesSeries(t *testing.T) {
	text := `# HELP docuparse_bucket_objects Objects …
# TYPE docuparse_bucket_objects gauge
docuparse_bucket_objects{source="bench"} 100000
docuparse_bucket_objects{source="other"} 7
docuparse_bucket_list_requests_total{source="bench"} 303
docuparse_bucket_listing_duration_seconds{source="bench"} 3.5e+00
docuparse_documents{state="queued"} 0
docuparse_documents{state="exported"} 100000
docuparse_queue_depth 0
`
	m, docs, err := parseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if m["objects"] != 100000 || m["list_requests_total"] != 303 || m["listing_duration_seconds"] != 3.5 || len(m) != 3 {
		t.Errorf("bucket series %v", m)
	}
	if docs["queued"] != 0 || docs["exported"] != 100000 || len(docs) != 2 {
		t.Errorf("documents %v", docs)
	}
}
