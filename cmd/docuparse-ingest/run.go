package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	sdnotify "github.com/coreos/go-systemd/v22/daemon"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/procs"
)

// runDaemon runs the daemon until SIGTERM or SIGINT. The first signal
// drains: no new files are taken, uploads in flight may finish for up to
// --drain-timeout, results are applied and exported. A second signal stops
// at once. Either way nothing is lost: what was cut short resumes from the
// store at the next start. SIGHUP re-reads the configuration.
func (m *Main) runDaemon(ctx context.Context, args []string) error {
	fs := m.newFlags("run")
	path := fs.String("config", config.DefaultPath, "configuration file")
	drainTimeout := fs.Duration("drain-timeout", 60*time.Second, "how long uploads in flight may finish after SIGTERM")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Signals are ours from the start (a SIGHUP's default action would kill
	// the process while the configuration loads). main's signal context is
	// released so each signal arrives here once; the daemon's own context
	// is not a signal context: the first signal must start a drain, not
	// cancel every part at once.
	sigs := make(chan os.Signal, 4)
	signal.Reset(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	cfg, err := config.Load(*path, m.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(m.Stderr, cfg.Log)

	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()

	version, commit := buildLabels()
	gomaxprocs := procs.ReserveWriterProc()
	log.Info("docuparse-ingest starting", "version", version, "commit", commit, "config", *path, "gomaxprocs", gomaxprocs)
	d, err := daemon.New(runCtx, cfg, daemon.Options{Logger: log, Version: version, Commit: commit})
	if err != nil {
		return err
	}
	if err := d.Start(runCtx); err != nil {
		d.Stop()
		return err
	}
	notify(log, sdnotify.SdNotifyReady, "STATUS=running")
	stopWatchdog := startWatchdog(runCtx, log, d)

	for {
		var sig os.Signal
		select {
		case sig = <-sigs:
		case <-ctx.Done(): // the caller's context (tests, or main's signal context)
			sig = syscall.SIGTERM
		}
		if sig == syscall.SIGHUP {
			reload(log, d, *path, m.Getenv)
			continue
		}
		log.Info("shutting down: draining uploads", "signal", sig.String(), "drain_timeout", *drainTimeout)
		notify(log, sdnotify.SdNotifyStopping, "STATUS=draining")
		stopWatchdog()
		drainCtx, cancelDrain := context.WithTimeout(context.Background(), *drainTimeout)
		go func() {
			for {
				select {
				case s := <-sigs:
					if s == syscall.SIGHUP {
						log.Info("reload ignored while shutting down")
						continue
					}
					log.Warn("second signal: stopping now; interrupted uploads resume at the next start", "signal", s.String())
					cancelDrain()
					return
				case <-drainCtx.Done():
					return
				}
			}
		}()
		d.Shutdown(drainCtx)
		cancelDrain()
		log.Info("stopped")
		return nil
	}
}

// reload applies a new configuration, or keeps the running one when the
// new one is invalid.
func reload(log *slog.Logger, d *daemon.Daemon, path string, getenv func(string) string) {
	notify(log, sdnotify.SdNotifyReloading, "STATUS=reloading")
	defer notify(log, sdnotify.SdNotifyReady, "STATUS=running")
	next, err := config.Load(path, getenv)
	if err != nil {
		log.Error("reload refused: the new configuration is invalid; the running one stays", "err", oneLine(err))
		return
	}
	needRestart, err := d.Reload(next)
	if err != nil {
		log.Error("reload refused; the running configuration stays", "err", err)
		return
	}
	if len(needRestart) > 0 {
		log.Warn("reload applied sources and batch settings; these changes need a restart", "keys", strings.Join(needRestart, ", "))
		return
	}
	log.Info("configuration reloaded")
}

// notify tells systemd about the service's state; outside systemd
// (no NOTIFY_SOCKET) it does nothing.
func notify(log *slog.Logger, state ...string) {
	if _, err := sdnotify.SdNotify(false, strings.Join(state, "\n")); err != nil {
		log.Warn("sd_notify failed", "err", err)
	}
}

// startWatchdog pings systemd's watchdog at half its interval while the
// store answers; a daemon whose store is stuck stops pinging and is
// restarted. It returns a function that stops the pings.
func startWatchdog(ctx context.Context, log *slog.Logger, d *daemon.Daemon) func() {
	interval, err := sdnotify.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return func() {}
	}
	var g lifecycle.Group
	g.Go(ctx, func(ctx context.Context) {
		lifecycle.Every(ctx, interval/2, func(ctx context.Context) {
			hctx, hcancel := context.WithTimeout(ctx, interval/4)
			err := d.Healthy(hctx)
			hcancel()
			if err != nil {
				log.Error("unhealthy: not pinging the watchdog", "err", err)
				return
			}
			notify(log, sdnotify.SdNotifyWatchdog)
		})
	})
	return g.Stop
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
