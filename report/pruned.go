package report

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Pruned is what the retention job (state.retention) had done when the
// report was built: the documents whose detail it pruned that day
// (store.CounterPruned), the total since the store began, and the cutoff
// of its latest pass — documents exported before it keep their rows
// (counted, deduplicated, known) but no result JSON nor webhook bodies.
type Pruned struct {
	Today, Total   int64
	ExportedBefore time.Time
}

// jsonPruned is Report.Pruned; the JSON form has it only when something
// was ever pruned.
type jsonPruned struct {
	Documents      int64   `json:"documents"`
	Total          int64   `json:"total"`
	ExportedBefore *string `json:"exported_before"`
}

// takePruned moves the day's pruning counter out of r.Counters into
// r.Pruned and reads the totals the store keeps.
func (r *Report) takePruned(ctx context.Context, st Store) error {
	kept := r.Counters[:0]
	for _, c := range r.Counters {
		if c.Name == store.CounterPruned {
			r.Pruned.Today = c.Count
			continue
		}
		kept = append(kept, c)
	}
	r.Counters = kept
	total, ok, err := st.Meta(ctx, store.MetaPrunedTotal)
	if err != nil || !ok {
		return err
	}
	if r.Pruned.Total, err = strconv.ParseInt(total, 10, 64); err != nil {
		return fmt.Errorf("%s: %w", store.MetaPrunedTotal, err)
	}
	before, ok, err := st.Meta(ctx, store.MetaPrunedBefore)
	if err != nil || !ok {
		return err
	}
	r.Pruned.ExportedBefore, err = time.Parse("2006-01-02T15:04:05.000000Z", before)
	if err != nil {
		return fmt.Errorf("%s: %w", store.MetaPrunedBefore, err)
	}
	return nil
}

// json returns the JSON form of r.Pruned, nil when nothing was ever
// pruned.
func (p Pruned) json() *jsonPruned {
	if p.Total == 0 && p.Today == 0 {
		return nil
	}
	return &jsonPruned{Documents: p.Today, Total: p.Total, ExportedBefore: jsonTime(p.ExportedBefore)}
}

// mdPruned says what the retention job pruned, once it ever pruned
// anything.
func (r *Report) mdPruned(b *bytes.Buffer) {
	p := r.Pruned
	if p.Total == 0 && p.Today == 0 {
		return
	}
	fmt.Fprintf(b, "## State database retention\n\n")
	fmt.Fprintf(b, "- Pruned this day: the detail of %s (state.retention).\n", plural(int(p.Today), "document"))
	fmt.Fprintf(b, "- Pruned in all: %d. Documents exported before %s keep their row (counted above, deduplicated, known)"+
		" but no longer their result JSON nor their webhook deliveries; their amounts are in no money total.\n\n",
		p.Total, r.mdTime(p.ExportedBefore))
}
