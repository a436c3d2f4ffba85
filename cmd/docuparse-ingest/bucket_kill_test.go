package main

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// TestKillNineWithABucketSourceLosesAndDuplicatesNothing runs the built
// binary on an S3 bucket (gofakes3 on loopback, reached through the URL
// and the AWS environment chain as in production), kills it with SIGKILL
// twice while objects are being taken in and uploaded, and restarts it:
// every object under the prefix still ends with exactly one row and one
// result, nothing outside the prefix is taken, and no content is uploaded
// twice.
func TestKillNineWithABucketSourceLosesAndDuplicatesNothing(t *testing.T) {
	s := bucketemu.S3(t) // its credentials are in the environment the binary inherits
	r := newLifecycleRig(t, sim.Config{ProcessingDelay: 200 * time.Millisecond, TimeScale: 0.0005, Seed: 21})
	r.writeConfig(t, r.sim.BucketConfig(r.dir, s.URL("in/"), ""))
	b, err := bucket.Open(context.Background(), s.URL("in/"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, f := range samples.Generate(5, 77) {
		if err := b.Blob().WriteAll(context.Background(), "elsewhere/"+f.Name, f.Content, nil); err != nil {
			t.Fatal(err)
		}
	}

	p := r.start(t)
	files := e2e.DropObjects(t, b, samples.Generate(90, 13))
	for _, at := range []int{15, 20} {
		p.waitLog(t, at, func(m map[string]any) bool { return m["msg"] == "document submitted" })
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.exited
		p = r.start(t)
	}
	r.waitDone(t, p, len(files))
	if err := p.signalAndWait(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM exit: %v", err)
	}
	e2e.CheckOutputs(t, filepath.Join(r.dir, "out"), files, r.sim.Server)
}
