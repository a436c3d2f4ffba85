package reconcile

import (
	"context"
	"fmt"
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

// report.at is a wall-clock time and stays one, but a clock stepped back
// across it must neither write a day's report twice nor skip a day.
// (A guard: the last day reported is stored, so this held before the
// monotonic-clock fixes too.)
func TestAClockSteppedBackAcrossTheReportTimeNeitherRepeatsNorSkipsADay(t *testing.T) {
	r, st, c, _ := reporterRig(t, time.UTC)
	ctx := context.Background()
	if _, err := st.Intake(ctx, store.NewFile{Source: "s", Path: "/in/a.pdf", FileName: "a.pdf", Size: 1, ModTime: c.Now(), SHA256: "a"}); err != nil {
		t.Fatal(err)
	}
	c.Set(time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC))
	if days, err := r.RunOnce(ctx); err != nil || fmt.Sprint(days) != "[2026-11-20]" {
		t.Fatalf("first night = %v, %v", days, err)
	}
	for _, step := range []time.Duration{-time.Hour, -3 * time.Hour, -26 * time.Hour} {
		c.Set(time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC).Add(step))
		if days, err := r.RunOnce(ctx); err != nil || len(days) != 0 {
			t.Fatalf("stepped back %v: wrote %v, %v; want nothing", step, days, err)
		}
		c.Set(time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC))
		if days, err := r.RunOnce(ctx); err != nil || len(days) != 0 {
			t.Fatalf("back at 02:30 after a step of %v: wrote %v, %v; want nothing", step, days, err)
		}
	}
	c.Set(time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC))
	if days, err := r.RunOnce(ctx); err != nil || fmt.Sprint(days) != "[2026-11-21]" {
		t.Fatalf("next night = %v, %v", days, err)
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
