package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// listResult is what the list-only baseline measured.
type listResult struct {
	Passes   []float64 `json:"passes"`   // seconds per pass
	Requests int       `json:"requests"` // list requests per pass
	Objects  int       `json:"objects"`
	HWM      int64     `json:"hwm"` // peak resident memory, bytes
}

// listOnly is the baseline process: the same prefix listed page by page
// with internal/bucket's List, passes times, with no change detection
// (no store, no patterns); it prints a listResult as JSON.
func listOnly(ctx context.Context, raw string, passes int, w io.Writer) error {
	b, err := bucket.Open(ctx, raw)
	if err != nil {
		return err
	}
	defer b.Close()
	var r listResult
	for range passes {
		start, n := time.Now(), 0
		reqs, err := b.List(ctx, b.Prefix, true, func(page []bucket.Object) error {
			n += len(page)
			return nil
		})
		if err != nil {
			return err
		}
		r.Passes = append(r.Passes, time.Since(start).Seconds())
		r.Requests, r.Objects = reqs, n
	}
	if r.HWM, err = binrun.PeakRSS(os.Getpid()); err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(r)
}

// runListOnly runs the baseline process against url.
func runListOnly(ctx context.Context, url string, passes int) (listResult, error) {
	self, err := os.Executable()
	if err != nil {
		return listResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "list-only", "-url", url, "-passes", fmt.Sprint(passes))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return listResult{}, fmt.Errorf("list-only: %w", err)
	}
	var r listResult
	return r, json.Unmarshal(out, &r)
}

// seed builds the state a daemon has once its first pass took every
// object in: a store at dbPath holding each object listed under url as an
// exported document of source, with the Path, size, modification time
// and version a listing gives (store.SeedExported, one transaction per
// page).
func seed(ctx context.Context, url, dbPath, source string) (int, error) {
	b, err := bucket.Open(ctx, url)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	st, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	n := 0
	_, err = b.List(ctx, b.Prefix, true, func(page []bucket.Object) error {
		files := make([]store.NewFile, 0, len(page))
		for _, o := range page {
			files = append(files, store.NewFile{Source: source, Path: b.PathOf(o.Key), FileName: path.Base(o.Key),
				Size: o.Size, ModTime: o.ModTime, FileID: store.FileID{Version: o.Version}})
		}
		n += len(files)
		return st.SeedExported(ctx, files, "BENCH", "seeded as taken in by an earlier pass")
	})
	return n, err
}
