package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// pruneResult is what pruning every exported document's detail did to
// the store's size.
type pruneResult struct {
	Seconds    float64 // Prune's wall time
	Documents  int     // documents pruned
	UsedBefore int64   // bytes in pages in use before
	UsedAfter  int64   // after (the pages freed are reused by new rows)
	Vacuumed   int64   // the file's size after VACUUM
}

// measurePrune prunes, through the store's API, every document exported
// so far from a copy of the database at statePath (the cutoff is a second
// from now, as `[state] retention` does once they are old enough), and
// measures the pages the database uses before and after, and its size once
// vacuumed. The copy is removed; the store stays as built, for another
// invocation with the same -dir.
func measurePrune(ctx context.Context, statePath string) (pruneResult, error) {
	var r pruneResult
	copyPath := filepath.Join(filepath.Dir(statePath), "pruned.db")
	defer os.Remove(copyPath)
	defer os.Remove(copyPath + "-wal")
	defer os.Remove(copyPath + "-shm")
	if err := copyFile(statePath, copyPath); err != nil {
		return r, err
	}
	statePath = copyPath
	var err error
	if r.UsedBefore, err = usedBytes(ctx, statePath, false); err != nil {
		return r, err
	}
	st, err := store.Open(ctx, statePath, store.Options{})
	if err != nil {
		return r, err
	}
	start := time.Now()
	res, err := st.Prune(ctx, time.Now().Add(time.Second), time.Now().UTC().Format("2006-01-02"))
	r.Seconds = time.Since(start).Seconds()
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return r, err
	}
	r.Documents = res.Documents
	if r.UsedAfter, err = usedBytes(ctx, statePath, false); err != nil {
		return r, err
	}
	r.Vacuumed, err = usedBytes(ctx, statePath, true)
	return r, err
}

// copyFile copies the file at from to to.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// usedBytes returns the bytes of the database's pages not on its free
// list; with vacuum, it first rebuilds the file and returns its size.
func usedBytes(ctx context.Context, path string, vacuum bool) (int64, error) {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	if vacuum {
		if _, err := db.ExecContext(ctx, `VACUUM`); err != nil {
			return 0, err
		}
		if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return 0, err
		}
		return fileSizes(path, path+"-wal")
	}
	var pages, free, size int64
	for q, v := range map[string]*int64{"page_count": &pages, "freelist_count": &free, "page_size": &size} {
		if err := db.QueryRowContext(ctx, `PRAGMA `+q).Scan(v); err != nil {
			return 0, err
		}
	}
	return (pages - free) * size, nil
}

// storeTableHeader heads the store mode's table; the test reads rows by
// it.
const storeTableHeader = "| documents | build s | restart to /readyz 200 s | status s | first listing taken in s | RSS ready | RSS after listing | VmHWM | files re-read | state.db+wal | per million docs | after prune: in use | per million docs | freed for new rows | vacuumed | prune s |"

// storeMarkdown prints one row per store, the baseline first.
func storeMarkdown(w io.Writer, rows []storeResult) {
	const mib = 1 << 20
	fmt.Fprintln(w, storeTableHeader)
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		perM := 1e6 / float64(r.Docs)
		fmt.Fprintf(w, "| %d | %.0f | %.2f | %.2f | %.1f | %.0f MiB | %.0f MiB | %.0f MiB | %d | %.0f MiB | %.0f MiB | %.0f MiB | %.0f MiB | %.0f MiB | %.0f MiB | %.1f |\n",
			r.Docs, r.BuildSeconds, r.ReadySeconds, r.StatusSecs, r.ListedSecs,
			float64(r.RSSReady)/mib, float64(r.RSSListed)/mib, float64(r.HWM)/mib, r.Reread,
			float64(r.DBBytes)/mib, float64(r.DBBytes)*perM/mib,
			float64(r.Prune.UsedAfter)/mib, float64(r.Prune.UsedAfter)*perM/mib,
			float64(r.Prune.UsedBefore-r.Prune.UsedAfter)/mib, float64(r.Prune.Vacuumed)/mib, r.Prune.Seconds)
	}
}
