package ingest

import (
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// BatchLimits bound one batch. A batch is cut when it reaches MaxFiles or
// MaxBytes, or when its oldest document has waited MaxWait.
type BatchLimits struct {
	MaxFiles int           // Defaults to 50.
	MaxBytes int64         // Defaults to 100 MB.
	MaxWait  time.Duration // Defaults to 5 seconds.
}

func (l *BatchLimits) defaults() {
	if l.MaxFiles <= 0 {
		l.MaxFiles = 50
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 100_000_000
	}
	if l.MaxWait <= 0 {
		l.MaxWait = 5 * time.Second
	}
}

// plan is a batch the batcher would form now.
type plan struct {
	docs  []store.Document
	bytes int64
	full  bool // reached a limit: send without waiting
}

// planBatches groups queued documents (oldest first) into batches. Two
// files with the same part filename never share a batch, so an API refusal
// naming a file always names exactly one. A document marked solo goes alone.
func planBatches(queued []store.Document, lim BatchLimits) []plan {
	var plans []plan
	rest := queued
	for len(rest) > 0 {
		var p plan
		names := map[string]bool{}
		var next []store.Document
		for i, d := range rest {
			if p.full {
				next = append(next, rest[i:]...)
				break
			}
			name := strings.ToLower(apiclient.PartFilename(d.FileName))
			if (d.Solo && len(p.docs) > 0) || names[name] {
				next = append(next, d)
				continue
			}
			if len(p.docs) > 0 && p.bytes+d.SizeBytes > lim.MaxBytes {
				p.full = true
				next = append(next, d)
				continue
			}
			p.docs = append(p.docs, d)
			p.bytes += d.SizeBytes
			names[name] = true
			if d.Solo || len(p.docs) >= lim.MaxFiles || p.bytes >= lim.MaxBytes {
				p.full = true
			}
		}
		plans = append(plans, p)
		rest = next
	}
	return plans
}

// due reports whether a plan should be sent now, and otherwise when.
func (p plan) due(now time.Time, maxWait time.Duration) (bool, time.Time) {
	if p.full {
		return true, now
	}
	oldest := p.docs[0].DiscoveredAt
	for _, d := range p.docs[1:] {
		if d.DiscoveredAt.Before(oldest) {
			oldest = d.DiscoveredAt
		}
	}
	at := oldest.Add(maxWait)
	return !now.Before(at), at
}
