package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/admin"
	"github.com/docuparse/docuparse-ingest/internal/sourcestate"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// service is one long-lived part of the daemon (the contract of
// internal/lifecycle). Start starts its work and returns at once; an
// error stops the daemon's Start. Stop stops it and waits until its work
// has ended; it is safe to call twice, and before Start.
type service interface {
	Start(ctx context.Context) error
	Stop()
}

// The daemon's services, in the order Start starts them; Stop stops them in
// reverse. build constructs them in the order they depend on each other
// and puts each in its slot (a slot stays nil when its part is not
// configured). The order keeps these rules:
//
//   - state (the store, the folder pins, the buckets, the state_dir lock)
//     is first in and last out: every other part writes to it until it
//     stops.
//   - listings: sources.json is written once the sources have stopped.
//   - counters: the last counts flush into the store after every part that
//     counts has stopped.
//   - health: the problems file is removed after the last /readyz (admin
//     stops first).
//   - mirror: it uploads what the exporter and the reporter write, so it
//     starts before them and stops after the exporter's last pass, before
//     the store it records in is closed.
//   - exporter, then applier (consumers before producers): at Stop the
//     applier applies what was journaled, then the exporter runs a last
//     pass over what is ready, so a clean stop leaves nothing for the next
//     start (withLastPass).
//   - receiver: it stops accepting (requests in flight finish) and its
//     journal writer drains before the applier's last pass.
//   - poller, reporter, pruner (state.retention): independent of each
//     other.
//   - submitter: Shutdown lets its uploads in flight finish within the
//     drain timeout before Stop cancels the rest (they resume at the next
//     start with their keys).
//   - intake, then the sources: producers last in, first out, so nothing
//     is taken in once the pipeline behind them stops.
const (
	slotState = iota
	slotListings
	slotCounters
	slotHealth
	slotAdmin
	slotMirror
	slotExporter
	slotApplier
	slotReceiver
	slotPoller
	slotReporter
	slotPruner
	slotSubmitter
	slotIntake
	slotSources
	numSlots
)

// part is a service whose Start cannot fail.
type part struct {
	p interface {
		Start(context.Context)
		Stop()
	}
}

// Start starts the part.
func (s part) Start(ctx context.Context) error { s.p.Start(ctx); return nil }

// Stop stops the part.
func (s part) Stop() { s.p.Stop() }

// lastPassTimeout bounds each last pass at Stop; what is left resumes on
// the next start.
const lastPassTimeout = 10 * time.Second

// withLastPass is a periodic part (the applier, the exporter) that, once
// started, runs one more pass after it stopped.
type withLastPass struct {
	p interface {
		Start(context.Context)
		Stop()
		RunOnce(context.Context) (int, error)
	}
	what    string // "apply", "export": for the log
	log     *slog.Logger
	started atomic.Bool
	once    sync.Once
}

// Start starts the part.
func (s *withLastPass) Start(ctx context.Context) error {
	s.started.Store(true)
	s.p.Start(ctx)
	return nil
}

// Stop stops the part, then runs its last pass if it was started.
func (s *withLastPass) Stop() {
	s.p.Stop()
	if !s.started.Load() {
		return
	}
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), lastPassTimeout)
		defer cancel()
		if _, err := s.p.RunOnce(ctx); err != nil {
			s.log.Warn("final "+s.what+" incomplete; resumes on next start", "err", err)
		}
	})
}

// adminService is the admin listener.
type adminService struct {
	s   *admin.Server
	log *slog.Logger
}

// Start serves and logs the address.
func (s adminService) Start(ctx context.Context) error {
	s.s.Start(ctx)
	s.log.Info("admin listening", "addr", s.s.Addr())
	return nil
}

// Stop lets requests in flight finish and closes the listener.
func (s adminService) Stop() { s.s.Stop() }

// receiverService is the webhook receiver: its journal writer and its
// listener; without a listener (receiver.enabled = false) it only says
// that results arrive by polling.
type receiverService struct {
	handler *receiver.Handler
	server  *receiver.Server // nil when disabled
	path    string
	poll    time.Duration
	log     *slog.Logger
}

// Start starts the journal writer, then the listener.
func (s receiverService) Start(ctx context.Context) error {
	if s.server == nil {
		s.log.Warn("webhook receiver disabled: results arrive only by polling", "poll_interval", s.poll)
		return nil
	}
	s.handler.Start(ctx)
	s.server.Start(ctx)
	s.log.Info("webhook receiver listening", "addr", s.server.Addr(), "path", s.path)
	return nil
}

// Stop stops accepting and lets the requests in flight finish, then
// drains the journal writer.
func (s receiverService) Stop() {
	if s.server == nil {
		return
	}
	s.server.Stop()
	s.handler.Stop()
}

// healthService judges the API's reachability every healthInterval and,
// at Stop, removes the problems file.
type healthService struct{ d *Daemon }

// Start starts the judge.
func (s healthService) Start(ctx context.Context) error { s.d.startHealth(ctx); return nil }

// Stop stops the judge and closes the tracker.
func (s healthService) Stop() {
	s.d.healthGroup.Stop()
	s.d.health.Close()
}

// listingsService writes the bucket sources' pending listings to
// state_dir at Stop.
type listingsService struct{ r *sourcestate.Recorder }

// Start does nothing: listings are recorded as they happen.
func (listingsService) Start(context.Context) error { return nil }

// Stop writes what is pending.
func (s listingsService) Stop() { s.r.Flush() }

// sourcesService runs the daemon's current sources (Reload replaces them
// while they run).
type sourcesService struct{ d *Daemon }

// Start starts every source, in configuration order.
func (s sourcesService) Start(ctx context.Context) error {
	d := s.d
	for i, f := range d.folders {
		if err := f.Start(ctx); err != nil {
			return fmt.Errorf("source %q: %w", d.cfg.Sources[i].Name, err)
		}
	}
	return nil
}

// Stop stops every source.
func (s sourcesService) Stop() {
	for _, f := range s.d.currentSources() {
		f.Stop()
	}
}

// stateService holds what the daemon keeps open from New to the end: the
// store, the folder pins, the buckets and the state_dir lock. Start does
// nothing; Stop closes them.
type stateService struct{ d *Daemon }

// Start does nothing: New opened the state.
func (stateService) Start(context.Context) error { return nil }

// Stop closes the store, the pins and the buckets, and releases the lock.
func (s stateService) Stop() {
	d := s.d
	if d.store != nil {
		if err := d.store.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			d.log.Warn("closing the store", "err", err)
		}
	}
	if d.pins != nil {
		d.pins.Close()
	}
	d.foldersMu.RLock()
	buckets := d.buckets
	d.foldersMu.RUnlock()
	closeBuckets(buckets, nil)
	if err := d.lock.Release(); err != nil {
		d.log.Warn("releasing the state_dir lock", "err", err)
	}
}

// compile-time checks: every part the daemon runs is a service.
var (
	_ service = part{}
	_ service = adminService{}
	_ service = (*withLastPass)(nil)
	_ service = receiverService{}
	_ service = healthService{}
	_ service = listingsService{}
	_ service = sourcesService{}
	_ service = stateService{}
)
