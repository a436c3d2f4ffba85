// Command docuparse-flood measures what attacks on the webhook receiver
// cost the real daemon (internal/flood): it builds docuparse-ingest from
// this tree (and, with --baseline, from a git revision), runs each one,
// floods its receiver with fake-signed bodies, slow uploads and idle
// connections, and prints peak memory, descriptors and whether real
// deliveries still got 200, as a Markdown table.
//
//	go run ./cmd/docuparse-flood --baseline main
//	go run ./cmd/docuparse-flood --idle 2000 --bodies 64
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/flood"
)

func main() { binrun.Main(run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("docuparse-flood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o flood.Options
	baseline := fs.String("baseline", "", "also measure docuparse-ingest built from this git revision (e.g. main), first")
	fs.IntVar(&o.Bodies, "bodies", 256, "concurrent fake-signed bodies")
	fs.IntVar(&o.BodySize, "body-size", 1_000_000, "bytes in each body")
	fs.IntVar(&o.Rounds, "rounds", 3, "bodies each sender posts in turn")
	fs.DurationVar(&o.Hold, "hold", 2*time.Second, "how long each round's bodies are held, less their last byte")
	fs.IntVar(&o.Slow, "slow", 300, "slow uploads (one byte a second)")
	fs.IntVar(&o.Idle, "idle", 5000, "idle connections")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir, err := os.MkdirTemp("", "docuparse-flood-")
	if err != nil {
		fmt.Fprintln(stderr, "docuparse-flood:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	o.Dir, o.Log = dir, stderr
	bins, err := binrun.BuildAll(ctx, *baseline, dir)
	if err != nil {
		fmt.Fprintln(stderr, "docuparse-flood:", err)
		return 2
	}
	rs, err := flood.Run(ctx, bins, o)
	if err != nil {
		fmt.Fprintln(stderr, "docuparse-flood:", err)
		return 1
	}
	flood.Markdown(stdout, rs, o)
	return 0
}
