package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// A refused API key (401) cannot succeed by waiting: a drain gives up on
// the upload at once, however long its next try is away, and the batch
// keeps its key (left submitting, no attempt counted against it) for the
// next start.
func TestSubmitterDrainGivesUpAtOnceWhenTheKeyIsRefused(t *testing.T) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := newSubRig(t, mode.batch, subRigOpts{})
			ids := r.queue(t, "a.pdf", "b.pdf")
			s := r.submitter(t, r.client(t, "dex_wrong_key", 2), func(c *SubmitterConfig) {
				c.BackoffMin, c.BackoffMax = time.Hour, time.Hour // any wait would outlast the test
			})
			r.start(t, s)
			testwait.OnSignal(t, r.wake, "a submit refused", func() bool { return len(r.requests()) >= 1 })
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			done := make(chan bool, 1)
			go func() { done <- s.Drain(ctx) }()
			<-done
			if ctx.Err() != nil {
				t.Fatal("the drain waited for its deadline: an upload refused for its key held up the shutdown")
			}
			bs, err := r.st.SubmittingBatches(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(bs) != 1 || bs[0].Attempts != 0 {
				t.Errorf("batches left submitting: %+v; want one, with no failed attempt counted", bs)
			}
			for _, id := range ids {
				if d := r.st.get(t, id); d.State != store.StateSubmitting {
					t.Errorf("document %d is %s, want it still submitting", id, d.State)
				}
			}
			if strings.Contains(r.logs.String(), "level=WARN") {
				t.Errorf("a refused key is logged as a passing problem (WARN):\n%s", r.logs.String())
			}
		})
	}
}
