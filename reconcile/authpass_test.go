package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// A refused API key refuses every poll: the pass stops at the first
// refusal instead of asking once per due document, and is not a failed
// pass (the daemon reports the key once, as a problem).
func TestPollingPassStopsAtARefusedKey(t *testing.T) {
	p, b := setup(t, sim.Config{})
	b.submit(t, samples.Demo()[:3])
	if err := b.sim.SetFaults(sim.Faults{RevokeKey: true}); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(6 * time.Minute)
	pass, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	refused := 0
	for _, byCode := range b.sim.Stats().Requests {
		refused += byCode[401]
	}
	if refused != 1 || pass.Errors != 1 {
		t.Errorf("%d polls refused (pass errors %d), want the pass stopped at the first", refused, pass.Errors)
	}
}
