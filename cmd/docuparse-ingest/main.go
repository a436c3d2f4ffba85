// Command docuparse-ingest watches folders, submits new documents to the
// DocuParse extraction API, receives its signed webhooks and writes every
// result to CSV and JSON exactly once. This package only parses flags and
// wires the packages together; see docs/ARCHITECTURE.md.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/safetext"
)

// Version and Commit are set at build time with -ldflags "-X main.Version=…".
var (
	Version = "dev"
	Commit  = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "docuparse-ingest:", strings.Join(errorLines(err), "\n"))
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "Run 'docuparse-ingest help' for usage.")
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// Main is the command line, with its streams and environment injectable
// for tests.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// SysctlDir is where check-config reads the kernel's link protections
	// (ingest.SysctlDir when empty).
	SysctlDir string
	// Now is the clock of commands that show times or days (status);
	// time.Now when nil.
	Now func() time.Time

	// flagOut collects what the flag sets print (see newFlags).
	flagOut bytes.Buffer
}

// now reads m's clock.
func (m *Main) now() time.Time {
	if m.Now == nil {
		return time.Now()
	}
	return m.Now()
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `docuparse-ingest — submit dropped-in documents to DocuParse, exactly once.

Usage:
  docuparse-ingest <command> [flags]

Commands:
  run            run the daemon (--config FILE)
  demo           run the whole pipeline locally on sample documents, no account needed
  status         how documents ended and what is in flight, today and in total, per source (--json)
  report         write and print the reconciliation report (--date D, or --from D --to D)
  reconcile      run one reconciliation pass now: poll every pending document, verify batches
  retry          resubmit failed or stuck documents (--failed, --stuck, --code, IDs; --dry-run)
  check-config   validate the configuration file and environment
  webhook sign   print the X-DocuParse-Signature header for a payload on stdin
  webhook send   sign and post a sample event (or --payload FILE) to a receiver
  webhook list   list journaled webhook events; dead letters by default (--status, --limit, --json)
  webhook replay queue dead, orphan or conflicting events to be applied again (IDs)
  version        print the version, the commit and whether its tree was modified
  help COMMAND   print a command's flags (as does COMMAND --help)

Every command but demo takes --config FILE
(default /etc/docuparse-ingest/config.toml) and reads secrets from
DOCUPARSE_API_KEY and DOCUPARSE_WEBHOOK_SECRET or the files the
configuration names.
`

// Run dispatches one command.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return usageError{"no command given"}
	}
	return m.finishFlags(m.dispatch(ctx, args))
}

// dispatch runs the command args[0] with the rest of args.
func (m *Main) dispatch(ctx context.Context, args []string) error {
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return m.runDaemon(ctx, rest)
	case "demo":
		return m.runDemo(ctx, rest)
	case "status":
		return m.runStatus(ctx, rest)
	case "report":
		return m.runReport(ctx, rest)
	case "reconcile":
		return m.runReconcile(ctx, rest)
	case "retry":
		return m.runRetry(ctx, rest)
	case "check-config":
		return m.runCheckConfig(ctx, rest)
	case "webhook":
		return m.runWebhook(ctx, rest)
	case "version", "--version":
		return m.runVersion(rest)
	case "help", "-h", "-help", "--help":
		return m.runHelp(func(a []string) error { return m.dispatch(ctx, a) }, rest)
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

// runVersion prints the version, the commit and whether the tree it was
// built from had uncommitted changes.
func (m *Main) runVersion(args []string) error {
	fs := m.newFlags("version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	info, _ := debug.ReadBuildInfo()
	fmt.Fprintln(m.Stdout, versionLine(info))
	return nil
}

// versionLine is the line version prints, from info (nil when the binary
// carries no build information).
func versionLine(info *debug.BuildInfo) string {
	version, commit, modified := buildVersion(info)
	switch {
	case commit == "":
		commit = "commit unknown: built without VCS information"
	case modified:
		commit = "commit " + commit + ", with uncommitted changes"
	default:
		commit = "commit " + commit
	}
	return fmt.Sprintf("docuparse-ingest %s (%s) %s", version, commit, runtime.Version())
}

// buildVersion returns the version and commit set at build time with
// -ldflags, or else what the Go toolchain recorded from info: a module
// version for go install …@v1.2.3; for a build in a git clone the VCS
// revision (vcs.revision) and whether the tree was modified
// (vcs.modified). info may be nil.
func buildVersion(info *debug.BuildInfo) (version, commit string, modified bool) {
	version, commit = Version, Commit
	if info == nil {
		return version, commit, false
	}
	if version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version = info.Main.Version
	}
	if commit != "" {
		return version, commit, false
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			commit = s.Value[:12]
		case s.Key == "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return version, commit, modified
}

// buildLabels are the version and commit docuparse_build_info carries; a
// build from a modified tree has "-dirty" after its commit.
func buildLabels() (version, commit string) {
	info, _ := debug.ReadBuildInfo()
	version, commit, modified := buildVersion(info)
	if modified {
		commit += "-dirty"
	}
	return version, commit
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// errorLines returns err's message as lines for a terminal: one line per
// error that errors.Join joined (a configuration's problems, say), each
// escaped by safetext.Visible, so that a file name or an API's text inside
// an error can neither add a line nor drive the terminal.
func errorLines(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var lines []string
		for _, e := range j.Unwrap() {
			lines = append(lines, errorLines(e)...)
		}
		return lines
	}
	return []string{safetext.Visible(err.Error())}
}
