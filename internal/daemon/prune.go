package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// pruneInterval is how often the retention job prunes: each pass takes
// what aged past the retention since the last, so it stays small.
const pruneInterval = time.Hour

// pruneStore is what the retention job needs of the store.
type pruneStore interface {
	Prune(ctx context.Context, cutoff time.Time, day string) (store.PruneResult, error)
}

// pruner is the retention job ([state] retention): every pruneInterval
// (the first one interval after the start, so a restart is not slowed),
// one pass of Store.Prune over the documents exported longer than the
// retention ago. A pass that fails is logged and made again at the next
// tick; Prune leaves the store consistent whatever stops it.
type pruner struct {
	st        pruneStore
	retention time.Duration
	loc       *time.Location // the report's zone: the day the pass counts its documents in
	now       func() time.Time
	interval  time.Duration
	log       *slog.Logger
	group     lifecycle.Group
}

// buildPruner builds the retention job, or returns nil when
// state.retention is 0 (everything is kept).
func (d *Daemon) buildPruner() service {
	if d.cfg.State.Retention <= 0 {
		return nil
	}
	return part{&pruner{st: d.store, retention: d.cfg.State.Retention.D(), loc: d.cfg.Report.Location(),
		now: time.Now, interval: pruneInterval, log: d.log.With("component", "retention")}}
}

// Start runs a pass every interval until Stop.
func (p *pruner) Start(ctx context.Context) {
	p.group.Go(ctx, func(ctx context.Context) {
		lifecycle.Every(ctx, p.interval, func(ctx context.Context) { _, _ = p.RunOnce(ctx) })
	})
}

// Stop stops the job and waits for a pass under way to end.
func (p *pruner) Stop() { p.group.Stop() }

// RunOnce prunes the documents exported before now minus the retention
// and logs what it pruned (nothing when there was nothing to prune).
func (p *pruner) RunOnce(ctx context.Context) (store.PruneResult, error) {
	now := p.now()
	cutoff := now.Add(-p.retention)
	res, err := p.st.Prune(ctx, cutoff, now.In(p.loc).Format("2006-01-02"))
	if err != nil {
		p.log.Error("pruning the state database failed; trying again at the next pass", "err", err)
		return res, err
	}
	if res != (store.PruneResult{}) {
		p.log.Info("pruned the detail of exported documents", "documents", res.Documents, "events", res.Events,
			"batches", res.Batches, "exported_before", cutoff.UTC().Format(time.RFC3339))
	}
	return res, nil
}
