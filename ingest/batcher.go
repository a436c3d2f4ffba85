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

// waits remembers when the submitter first saw each queued document, as a
// reading of the monotonic clock, so that max_wait is measured in elapsed
// time. Measured from discovered_at alone, a wall clock stepped back (by an
// operator, NTP or a restored VM) would hold a partial batch for as long as
// the step. Not safe for concurrent use: the batcher's loop owns it.
type waits struct {
	seen map[int64]time.Time
}

// observe records the documents queued at mono (oldest first, as the
// batcher lists them): a new one starts waiting now, and one no longer
// listed is forgotten.
func (w *waits) observe(queued []store.Document, mono time.Time) {
	seen := make(map[int64]time.Time, len(queued))
	for _, d := range queued {
		at, ok := w.seen[d.ID]
		if !ok {
			at = mono
		}
		seen[d.ID] = at
	}
	w.seen = seen
}

// due reports whether a plan should be sent now, and otherwise in how long.
// A partial plan is due once its oldest document has waited maxWait on the
// monotonic clock (mono) since the batcher first saw it, or earlier once
// its discovered_at is maxWait behind the wall clock (wall): a document
// queued before a restart, or while every upload slot was busy, has
// waited already. The wall clock can only make a batch go sooner, so a
// step back delays it by at most maxWait, never by the step.
func (w *waits) due(p plan, wall, mono time.Time, maxWait time.Duration) (bool, time.Duration) {
	if p.full {
		return true, 0
	}
	left := maxWait
	for _, d := range p.docs {
		if at, ok := w.seen[d.ID]; ok {
			left = min(left, maxWait-mono.Sub(at))
		}
		left = min(left, maxWait-wall.Sub(d.DiscoveredAt))
	}
	return left <= 0, left
}
