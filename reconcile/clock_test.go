package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// A wall clock stepped back an hour after a document was submitted must
// not hold its first poll for that hour: it is polled once the webhook
// grace has passed from now at the latest.
func TestADocumentIsPolledAfterTheGraceDespiteAClockSteppedBack(t *testing.T) {
	p, b := setup(t, sim.Config{ProcessingDelay: time.Hour})
	b.submit(t, samples.Demo()[:1])
	b.clock.Advance(time.Minute)
	b.clock.Step(-time.Hour)
	b.clock.Advance(5 * time.Minute) // the grace, counted from the step
	pass, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if pass.Processing != 1 {
		t.Fatalf("pass = %+v; want the document polled once the grace has passed since the clock was stepped back an hour", pass)
	}
}

// A wall clock stepped back an hour between two polls must not hold the
// next poll for that hour: it comes at most one backoff late.
func TestADocumentIsPolledAgainOnTimeDespiteAClockSteppedBack(t *testing.T) {
	p, b := setup(t, sim.Config{ProcessingDelay: time.Hour})
	b.submit(t, samples.Demo()[:1])
	ctx := context.Background()
	b.clock.Advance(6 * time.Minute)
	if pass, _ := p.RunOnce(ctx); pass.Processing != 1 {
		t.Fatalf("first poll: pass = %+v, want one still processing", pass)
	}
	b.clock.Step(-time.Hour)
	b.clock.Advance(30 * time.Second) // the first backoff
	pass, err := p.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pass.Processing != 1 {
		t.Fatalf("pass = %+v; want the document polled again after its backoff although the clock was stepped back an hour", pass)
	}
	// From here the schedule follows the new wall time: the next poll is
	// one (doubled) backoff away, not sooner.
	b.clock.Advance(59 * time.Second)
	if pass, _ := p.RunOnce(ctx); pass.Polled+pass.Processing != 0 {
		t.Fatalf("pass = %+v; polled again before its 60 s backoff", pass)
	}
	b.clock.Advance(time.Second)
	if pass, _ := p.RunOnce(ctx); pass.Processing != 1 {
		t.Fatalf("pass = %+v; want the document polled after its 60 s backoff", pass)
	}
}

// A batch whose batch.completed never came is verified once the grace has
// passed, even when the wall clock was stepped back an hour meanwhile.
func TestABatchIsVerifiedAfterTheGraceDespiteAClockSteppedBack(t *testing.T) {
	p, b := setup(t, sim.Config{})
	files := samples.Demo()
	_, ids := b.submitBatch(t, files)
	waitSim(t, b.sim, len(files))
	ctx := context.Background()
	for i, id := range ids {
		d, _ := b.store.Get(ctx, id)
		status := docuparse.StatusCompleted
		if _, apiErr := sim.Extract(files[i].Name, files[i].Content); apiErr != nil {
			status = docuparse.StatusFailed
		}
		if _, err := b.store.ApplyResult(ctx, store.Result{DocumentID: d.DocumentID, Status: status, Via: store.ViaWebhook}); err != nil {
			t.Fatal(err)
		}
	}
	b.clock.Step(-time.Hour)
	b.clock.Advance(5 * time.Minute)
	pass, err := p.RunOnce(ctx)
	if err != nil || pass.Verified != 1 {
		t.Fatalf("pass = %+v, %v; want the batch verified once the grace has passed since the clock was stepped back an hour", pass, err)
	}
}

// A step back smaller than the grace delays the first poll by no more than
// the step, and does not poll early.
func TestASmallStepBackNeitherPollsEarlyNorLate(t *testing.T) {
	p, b := setup(t, sim.Config{ProcessingDelay: time.Hour})
	b.submit(t, samples.Demo()[:1])
	b.clock.Step(-time.Minute)
	b.clock.Advance(5*time.Minute - time.Second)
	if pass, _ := p.RunOnce(context.Background()); pass.Polled+pass.Processing != 0 {
		t.Fatalf("pass = %+v; polled inside the grace", pass)
	}
	b.clock.Advance(time.Minute + time.Second) // the grace plus the step
	if pass, _ := p.RunOnce(context.Background()); pass.Processing != 1 {
		t.Fatalf("pass = %+v; want the document polled once the grace and the step have passed", pass)
	}
}
