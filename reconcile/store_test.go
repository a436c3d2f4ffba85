package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// The SQLite store is what the poller needs.
var _ Store = (*store.Store)(nil)

// narrowStore has Store's methods and no other: a poller built on it uses
// the store through its interface alone, as it would a second backend.
type narrowStore struct{ Store }

// Polling, applying what a poll found, verifying a batch and polling
// everything at once all work through Store alone.
func TestThePollerWorksThroughItsStoreInterfaceAlone(t *testing.T) {
	_, b := setup(t, sim.Config{})
	p := New(Config{Store: narrowStore{b.store}, Client: b.client, WebhookGrace: 5 * time.Minute,
		PollInterval: 30 * time.Second, Now: b.clock.Now})
	files := samples.Demo()
	b.submitBatch(t, files)
	waitSim(t, b.sim, len(files))
	b.clock.Advance(6 * time.Minute)
	ctx := context.Background()
	pass, err := p.RunOnce(ctx)
	if err != nil || pass.Completed+pass.Failed != len(files) || pass.Verified != 1 {
		t.Fatalf("pass = %+v, %v; want every document's result applied and the batch verified", pass, err)
	}
	if pass, err := p.PollAll(ctx, nil); err != nil || pass != (Pass{}) {
		t.Fatalf("poll all = %+v, %v; want nothing left to poll", pass, err)
	}
}
