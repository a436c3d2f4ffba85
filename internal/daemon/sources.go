package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/docuparse/docuparse-ingest/ingest"
	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/export"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// newSource builds the watcher of one configured folder, or the lister of
// one bucket (opened in buckets, see openBuckets).
func (d *Daemon) newSource(src config.Source, buckets map[string]*bucket.Bucket) (ingest.Source, error) {
	if src.URL != "" {
		b := buckets[src.Name]
		return ingest.NewBucket(ingest.BucketConfig{
			Name:         src.Name,
			Bucket:       b,
			Include:      src.Include,
			Exclude:      src.Exclude,
			Recursive:    src.Recursive,
			Settle:       src.Settle.D(),
			PollInterval: cmp.Or(src.PollInterval.D(), config.DefaultPollInterval),
			Skip:         afterKeys(src, b),
			Store:        d.store,
			Logger:       d.log,
			Listed:       func(l ingest.BucketListing) { d.bucketListed(l, b) },
		}, d.candidates)
	}
	return ingest.NewFolder(ingest.FolderConfig{
		Name:      src.Name,
		Root:      src.Path,
		Include:   src.Include,
		Exclude:   src.Exclude,
		Recursive: src.Recursive,
		Settle:    src.Settle.D(),
		Rescan:    src.Rescan.D(),
		Logger:    d.log, // the folder adds source=<name> itself
		Pins:      d.pins,

		FirstListings: d.firstLists,
	}, d.candidates)
}

// openBuckets opens the bucket of every bucket source, keeping those of
// open (by source name) whose URL is unchanged. Nothing is reached yet:
// a bucket that is missing or refuses access is found by the first
// listing (and by check-config). On error, those it opened are closed.
func openBuckets(ctx context.Context, srcs []config.Source, open map[string]*bucket.Bucket) (map[string]*bucket.Bucket, error) {
	out := map[string]*bucket.Bucket{}
	for i, src := range srcs {
		if src.URL == "" {
			continue
		}
		if b, ok := open[src.Name]; ok && b.Opened(src.URL) {
			out[src.Name] = b
			continue
		}
		b, err := bucket.Open(ctx, src.URL)
		if err != nil {
			closeBuckets(out, open)
			return nil, fmt.Errorf("source[%d].url: %w", i, err)
		}
		out[src.Name] = b
	}
	return out, nil
}

// closeBuckets closes the buckets of m that keep does not hold too.
func closeBuckets(m, keep map[string]*bucket.Bucket) {
	for name, b := range m {
		if keep[name] != b {
			_ = b.Close()
		}
	}
}

// afterKeys lists the key prefixes a bucket source's after = "move"
// writes to (processed/ and failed/ under after_prefix), which its
// listing must never take in.
func afterKeys(src config.Source, b *bucket.Bucket) []string {
	if src.After != vocab.AfterMove || b == nil {
		return nil
	}
	p := src.ResolvedAfterPrefix()
	return []string{p + "processed/", p + "failed/"}
}

// pinFolders pins every source folder and, for after = "move", move_to and
// move_rejected_to (created first if missing), before anything reads or
// moves a file: from here on each is the folder it was now, and one that is
// replaced is refused (internal/safedir). Folders already pinned keep
// their pin.
func (d *Daemon) pinFolders(srcs []config.Source) error {
	for i, src := range srcs {
		if src.Path == "" {
			continue
		}
		if _, err := d.pins.Pin(src.Path); err != nil {
			return fmt.Errorf("source[%d].path: %w", i, err)
		}
		if src.After != vocab.AfterMove {
			continue
		}
		for key, dir := range map[string]string{"move_to": src.MoveTo, "move_rejected_to": src.RejectedDir()} {
			if dir == "" {
				continue
			}
			if _, err := d.pins.PinCreate(dir, 0o755); err != nil {
				return fmt.Errorf("source[%d].%s: %w", i, key, err)
			}
		}
	}
	return nil
}

// pinnedPaths lists the folders pinFolders pins for srcs: every source
// folder and, for after = "move", move_to and move_rejected_to.
func pinnedPaths(srcs []config.Source) []string {
	var out []string
	for _, src := range srcs {
		if src.Path == "" {
			continue
		}
		out = append(out, src.Path)
		if src.After == vocab.AfterMove {
			out = append(out, src.MoveTo, src.RejectedDir())
		}
	}
	return out
}

// rootsOf maps each source to the folder its files must stay within.
func rootsOf(srcs []config.Source) map[string]string {
	out := make(map[string]string, len(srcs))
	for _, src := range srcs {
		out[src.Name] = src.Path
	}
	return out
}

// policies returns the per-source intake and after-export settings.
func policies(srcs []config.Source, buckets map[string]*bucket.Bucket) (map[string]ingest.SourcePolicy, map[string]export.SourceAfter) {
	intake := map[string]ingest.SourcePolicy{}
	after := map[string]export.SourceAfter{}
	for _, src := range srcs {
		intake[src.Name] = ingest.SourcePolicy{Dedupe: src.Dedupe, EmptyWait: src.EmptyWait.D()}
		after[src.Name] = export.SourceAfter{Action: src.After, Root: src.Path, MoveTo: src.MoveTo, MoveRejectedTo: src.RejectedDir(),
			Bucket: buckets[src.Name], AfterPrefix: src.ResolvedAfterPrefix()}
	}
	return intake, after
}

// Reload applies a new configuration's sources (added, removed or changed:
// paths, include/exclude, recursion, settle, rescan, dedupe, after-action)
// and batch limits, without dropping work in flight: a changed source's
// watcher is replaced, and files it had not settled yet are found again by
// the new one's first listing. Other settings need a restart; their keys
// are returned and they keep their running values. On error nothing
// changed.
func (d *Daemon) Reload(next *config.Config) (needRestart []string, err error) {
	cur := d.cfg
	needRestart = restartKeys(cur, next)

	// Pin new folders, and accept a real folder put back in place of a
	// replaced one (the operator reloads once they have looked).
	if err := d.pins.Repin(); err != nil {
		d.log.Warn("some pinned folders are still refused after the reload", "err", err)
	}
	if err := d.pinFolders(next.Sources); err != nil {
		return nil, err
	}
	// Build every new watcher first, so a bad one changes nothing.
	oldByName := map[string]int{}
	for i, src := range cur.Sources {
		oldByName[src.Name] = i
	}
	buckets, err := openBuckets(context.Background(), next.Sources, d.buckets)
	if err != nil {
		return nil, err
	}
	folders := make([]ingest.Source, len(next.Sources))
	fresh := make([]bool, len(next.Sources))
	for i, src := range next.Sources {
		if j, ok := oldByName[src.Name]; ok && reflect.DeepEqual(cur.Sources[j], src) {
			// Unchanged; started again if its watcher failed to start.
			folders[i], fresh[i] = d.folders[j], !d.folders[j].Running()
			continue
		}
		f, err := d.newSource(src, buckets)
		if err != nil {
			closeBuckets(buckets, d.buckets)
			return nil, fmt.Errorf("source[%d] %q: %w", i, src.Name, err)
		}
		folders[i], fresh[i] = f, true
	}
	kept := map[ingest.Source]bool{}
	for _, f := range folders {
		kept[f] = true
	}
	for i, f := range d.folders {
		if !kept[f] {
			d.log.Info("source stopped by reload", "source", cur.Sources[i].Name)
			f.Stop()
		}
	}
	intake, after := policies(next.Sources, buckets)
	d.roots.Set(rootsOf(next.Sources))
	d.roots.SetBuckets(buckets)
	d.intake.SetSources(intake)
	d.exporter.SetAfter(after)
	d.metrics.AddSources(sourceNames(next.Sources))
	d.listings.Retain(sourceNames(next.Sources))
	d.pins.Retain(pinnedPaths(next.Sources))
	d.submitter.SetLimits(batchLimits(next.Batch))
	for i, f := range folders {
		if !fresh[i] {
			continue
		}
		if err := f.Start(d.runCtx); err != nil {
			// Already validated; a folder that vanished since is retried
			// by a later reload. The rest of the reload stands.
			d.log.Error("source could not start after reload", "source", next.Sources[i].Name, "err", err)
			continue
		}
		d.log.Info("source started by reload", "source", next.Sources[i].Name, "path", next.Sources[i].Path)
	}
	applied := *cur
	applied.Sources, applied.Batch = next.Sources, next.Batch
	d.foldersMu.Lock()
	closeBuckets(d.buckets, buckets) // their sources are stopped
	d.folders, d.buckets, d.cfg = folders, buckets, &applied
	d.foldersMu.Unlock()
	return needRestart, nil
}

// restartKeys names the settings that differ between cur and next and
// need a restart to take effect.
func restartKeys(cur, next *config.Config) (keys []string) {
	for _, c := range []struct {
		key      string
		old, new any
	}{
		{"state_dir", cur.StateDir, next.StateDir},
		{"output_dir", cur.OutputDir, next.OutputDir},
		{"output_url", cur.OutputURL, next.OutputURL},
		{"api", cur.API, next.API},
		{"receiver", cur.Receiver, next.Receiver},
		{"reconcile", cur.Reconcile, next.Reconcile},
		{"report", cur.Report, next.Report},
		{"output", cur.Output, next.Output},
		{"admin", cur.Admin, next.Admin},
		{"log", cur.Log, next.Log},
		{"state", cur.State, next.State},
	} {
		if !reflect.DeepEqual(c.old, c.new) {
			keys = append(keys, c.key)
		}
	}
	return keys
}

// Shutdown stops taking new files, lets uploads in flight finish until ctx
// ends, then stops everything (see Stop). It reports whether the uploads
// finished; those cut short resume from the store at the next start.
func (d *Daemon) Shutdown(ctx context.Context) bool {
	start := time.Now()
	d.services[slotSources].Stop()
	d.services[slotIntake].Stop()
	drained := d.submitter.Drain(ctx)
	d.log.Info("uploads drained", "complete", drained, "took", time.Since(start).Round(time.Millisecond))
	d.Stop()
	return drained
}

// Healthy reports whether the daemon can still do its work: the store
// answers writes. (Used for the systemd watchdog and /readyz.)
func (d *Daemon) Healthy(ctx context.Context) error {
	return d.store.Ping(ctx)
}

// currentSources returns the running sources (Reload replaces them).
func (d *Daemon) currentSources() []ingest.Source {
	d.foldersMu.RLock()
	defer d.foldersMu.RUnlock()
	return d.folders
}

// sourcesHealthy reports whether every source is being watched.
func (d *Daemon) sourcesHealthy(context.Context) error {
	var errs []error
	for _, f := range d.currentSources() {
		if err := f.Healthy(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// secretsOf lists the configured secrets, for redaction.
func secretsOf(cfg *config.Config) []string {
	out := []string{cfg.API.APIKey.Reveal()}
	for _, s := range cfg.Receiver.Secrets {
		out = append(out, s.Reveal())
	}
	return out
}
