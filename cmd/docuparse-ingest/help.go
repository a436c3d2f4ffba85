package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// summaries are the one-line descriptions each command's --help starts
// with, keyed by the name given to newFlags.
var summaries = map[string]string{
	"run":            "Run the daemon until SIGTERM or SIGINT; SIGHUP re-reads the configuration.",
	"demo":           "Run the whole pipeline locally on sample documents, no account needed.",
	"status":         "Print counts by state, the oldest pending document and the last webhook.",
	"report":         "Write and print the reconciliation report of a day (default yesterday) or a range.",
	"reconcile":      "Run one reconciliation pass now: poll every pending document (whatever reconcile.webhook_grace says), verify batches.",
	"retry":          "Resubmit failed or stuck documents.",
	"check-config":   "Validate the configuration file and the environment the daemon would run in.",
	"webhook sign":   "Print the X-DocuParse-Signature header for the payload on stdin.",
	"webhook send":   "Sign and post a sample event (or --payload FILE) to a webhook receiver.",
	"webhook list":   "List journaled webhook events; the dead letters by default.",
	"webhook replay": "Queue dead, orphan or conflicting events to be applied again: webhook replay [--config FILE] ID...",
	"version":        "Print the version, the commit it was built from and whether that tree had uncommitted changes.",
}

const webhookUsage = `Usage:
  docuparse-ingest webhook <subcommand> [flags]

Subcommands:
  sign     print the X-DocuParse-Signature header for a payload on stdin
  send     sign and post a sample event (or --payload FILE) to a receiver
  list     list journaled webhook events; dead letters by default (--status, --json, --limit)
  replay   queue dead, orphan or conflicting events to be applied again (IDs)

Run 'docuparse-ingest webhook <subcommand> --help' for its flags.
`

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// newFlags returns a flag set that reports errors instead of exiting. Its
// output is collected in m.flagOut, which finishFlags prints to stdout when
// the user asked for --help and to stderr after a flag error. Its help
// starts with the command's summary.
func (m *Main) newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("docuparse-ingest "+name, flag.ContinueOnError)
	fs.SetOutput(&m.flagOut)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s [flags]\n", fs.Name())
		if s := summaries[name]; s != "" {
			fmt.Fprintf(w, "\n%s\n", s)
		}
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// finishFlags routes what the commands' flag sets printed: help asked for
// goes to stdout and is not an error; anything else goes to stderr.
func (m *Main) finishFlags(err error) error {
	out := m.flagOut.Bytes()
	m.flagOut.Reset()
	if errors.Is(err, flag.ErrHelp) {
		_, _ = m.Stdout.Write(out)
		return nil
	}
	_, _ = m.Stderr.Write(out)
	return err
}

// runHelp prints the usage of the command args name: help, help COMMAND,
// help webhook SUBCOMMAND.
func (m *Main) runHelp(run func([]string) error, args []string) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(m.Stdout, usage)
		return nil
	case isHelp(args[0]):
		fmt.Fprint(m.Stdout, usage)
		return nil
	case args[0] == "webhook" && len(args) == 1:
		fmt.Fprint(m.Stdout, webhookUsage)
		return nil
	}
	if _, ok := summaries[strings.Join(args, " ")]; !ok {
		return usageError{fmt.Sprintf("help: unknown command %q", strings.Join(args, " "))}
	}
	return run(append(append([]string{}, args...), "--help"))
}
