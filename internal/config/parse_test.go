package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFillsDefaults(t *testing.T) {
	got := mustParse(t, minimal, withSecrets())

	want := Default()
	want.name = "config.toml"
	want.API.BaseURL = "https://api.example.com/api/v1"
	want.API.APIKey = NewSecret(testKey)
	want.Receiver.Secrets = []Secret{NewSecret(testSecret1)}
	src := DefaultSource()
	src.Name, src.Path = "inbox", "/srv/invoices/inbox"
	want.Sources = []Source{src}

	if got.Report.Location() != time.Local {
		t.Errorf("Location() = %v, want time.Local", got.Report.Location())
	}
	got.Report.loc = nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults differ:\n got %+v\nwant %+v", got, want)
	}
	// The values the brief fixes, spelled out once.
	if got.API.MaxFileSize != 10_485_760 || got.Batch.MaxBytes != 100_000_000 || got.Receiver.MaxBody != 1_000_000 {
		t.Errorf("sizes: max_file_size %d, max_bytes %d, max_body %d", got.API.MaxFileSize, got.Batch.MaxBytes, got.Receiver.MaxBody)
	}
	if got.OutputDir != "/var/lib/docuparse-ingest/out" {
		t.Errorf("output_dir = %q", got.OutputDir)
	}
	if !reflect.DeepEqual(got.Sources[0].Exclude, []string{".*", "*.tmp", "*.part", "*~"}) {
		t.Errorf("exclude = %q", got.Sources[0].Exclude)
	}
}

func TestParseReadsEveryKey(t *testing.T) {
	text := `
state_dir = "/data/ingest"

[api]
base_url = "http://127.0.0.1:8081/api/v1/"
batch_upload = false
concurrency = 8
max_unusable_answers = 7
rate_limit = 2.5
timeout = "90s"
max_file_size = "5MB"
document_type = "invoice"

[batch]
max_files = 100
max_bytes = 200000000
max_wait = "250ms"

[receiver]
enabled = true
listen = "127.0.0.1:8443"
path = "/hooks"
max_body = "64KiB"
insecure_skip_verify = true

[reconcile]
webhook_grace = "0s"
poll_interval = "1m"
stuck_after = "48h"

[report]
at = 23:45:00
timezone = "Europe/Berlin"

[admin]
listen = ""

[log]
format = "json"
level = "debug"

[[source]]
name = "bucket-1"
path = "/srv/scans/"
include = ["*.PDF"]
exclude = []
recursive = false
settle = "0s"
after = "move"
move_to = "/srv/done"
move_rejected_to = "rejected"
dedupe = false
rescan = "5m"
empty_wait = "90s"
`
	c := mustParse(t, text, env(map[string]string{EnvAPIKey: testKey}))
	s := c.Sources[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"state_dir", c.StateDir, "/data/ingest"},
		{"output_dir follows state_dir", c.OutputDir, "/data/ingest/out"},
		{"base_url loses its trailing slash", c.API.BaseURL, "http://127.0.0.1:8081/api/v1"},
		{"batch_upload", c.API.BatchUpload, false},
		{"concurrency", c.API.Concurrency, 8},
		{"max_unusable_answers", c.API.MaxUnusableAnswers, 7},
		{"rate_limit", c.API.RateLimit, 2.5},
		{"timeout", c.API.Timeout.D(), 90 * time.Second},
		{"max_file_size", c.API.MaxFileSize, 5 * MB},
		{"document_type", c.API.DocumentType, "invoice"},
		{"max_files", c.Batch.MaxFiles, 100},
		{"max_bytes", c.Batch.MaxBytes, Size(200_000_000)},
		{"max_wait", c.Batch.MaxWait.D(), 250 * time.Millisecond},
		{"listen", c.Receiver.Listen, "127.0.0.1:8443"},
		{"path", c.Receiver.Path, "/hooks"},
		{"max_body", c.Receiver.MaxBody, 64 * KiB},
		{"insecure_skip_verify", c.Receiver.AllowUnsigned, true},
		{"webhook_grace", c.Reconcile.WebhookGrace.D(), time.Duration(0)},
		{"poll_interval", c.Reconcile.PollInterval.D(), time.Minute},
		{"stuck_after", c.Reconcile.StuckAfter.D(), 48 * time.Hour},
		{"at from a TOML local time", c.Report.At, "23:45"},
		{"timezone", c.Report.Location().String(), "Europe/Berlin"},
		{"admin listen empty disables", c.Admin.Listen, ""},
		{"log format", c.Log.Format, "json"},
		{"log level", c.Log.SlogLevel().String(), "DEBUG"},
		{"source path loses its trailing slash", s.Path, "/srv/scans"},
		{"include", s.Include, []string{"*.PDF"}},
		{"an explicit empty exclude excludes nothing", s.Exclude, []string{}},
		{"recursive", s.Recursive, false},
		{"settle", s.Settle.D(), time.Duration(0)},
		{"after", s.After, "move"},
		{"move_to", s.MoveTo, "/srv/done"},
		{"move_rejected_to", s.MoveRejectedTo, "rejected"},
		{"move_rejected_to is relative to a non-recursive source's path", s.RejectedDir(), "/srv/scans/rejected"},
		{"dedupe", s.Dedupe, false},
		{"rescan", s.Rescan.D(), 5 * time.Minute},
		{"empty_wait", s.EmptyWait.D(), 90 * time.Second},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

// template is a valid configuration with places for a test's additions.
const template = `{{top}}
[api]
base_url = "https://api.example.com/api/v1"
{{api}}
[[source]]
name = "inbox"
path = "/srv/invoices/inbox"
{{source}}
{{extra}}`

type fragment struct{ top, api, source, extra, from, to string }

func (f fragment) text() string {
	s := strings.NewReplacer("{{top}}", f.top, "{{api}}", f.api, "{{source}}", f.source, "{{extra}}", f.extra).Replace(template)
	if f.from != "" {
		s = strings.Replace(s, f.from, f.to, 1)
	}
	return s
}

func TestParseRejectsBadValues(t *testing.T) {
	const baseURL = `base_url = "https://api.example.com/api/v1"`
	tests := []struct {
		name string
		in   fragment
		key  string
		msg  string // the whole line starts with "config.toml: <key>: <msg>"
	}{
		{"a duration with an unknown unit is refused", fragment{top: `batch.max_wait = "5x"`}, "batch.max_wait", `invalid duration "5x"`},
		{"a duration written as a bare number is refused with a hint", fragment{top: `batch.max_wait = 5`}, "batch.max_wait", `invalid duration 5: write it as a string with a unit, e.g. "5s"`},
		{"a duration of another type is refused", fragment{top: `reconcile.poll_interval = true`}, "reconcile.poll_interval", "must be a duration string"},
		{"a zero max_wait is refused", fragment{top: `batch.max_wait = "0s"`}, "batch.max_wait", "0s must be more than 0"},
		{"a negative settle is refused", fragment{source: `settle = "-1s"`}, "source[0].settle", "-1s must not be negative"},
		{"a zero rescan is refused", fragment{source: `rescan = "0s"`}, "source[0].rescan", "0s must be more than 0"},
		{"a zero empty_wait is refused", fragment{source: `empty_wait = "0s"`}, "source[0].empty_wait", "0s must be more than 0"},
		{"a zero api timeout is refused", fragment{api: `timeout = "0s"`}, "api.timeout", "0s must be more than 0"},
		{"stuck_after must outlast webhook_grace", fragment{top: "reconcile.stuck_after = \"1m\""}, "reconcile.stuck_after", "1m0s must be longer than reconcile.webhook_grace (5m0s)"},
		{"a missing base_url is refused", fragment{from: baseURL}, "api.base_url", "missing"},
		{"a base_url without a scheme is refused", fragment{from: baseURL, to: `base_url = "api.example.com/v1"`}, "api.base_url", `"api.example.com/v1" is not an absolute http(s) URL`},
		{"a base_url with another scheme is refused", fragment{from: baseURL, to: `base_url = "ftp://api.example.com/v1"`}, "api.base_url", `"ftp://api.example.com/v1" must use http or https`},
		{"a base_url with a query is refused", fragment{from: baseURL, to: `base_url = "https://api.example.com/v1?x=1"`}, "api.base_url", `"https://api.example.com/v1" must not have a query or fragment (not shown: it may hold a secret)`},
		{"a base_url with credentials is refused without echoing them", fragment{from: baseURL, to: `base_url = "https://u:hunter2@api.example.com/v1"`}, "api.base_url", "must not contain user credentials"},
		{"concurrency above 64 is refused", fragment{api: "concurrency = 65"}, "api.concurrency", "65 is out of range 1..64"},
		{"concurrency zero is refused", fragment{api: "concurrency = 0"}, "api.concurrency", "0 is out of range 1..64"},
		{"max_unusable_answers zero is refused", fragment{api: "max_unusable_answers = 0"}, "api.max_unusable_answers", "0 is out of range 1..100"},
		{"concurrency as a string is refused", fragment{api: `concurrency = "4"`}, "api.concurrency", "must be an integer, not a string"},
		{"a huge integer is refused", fragment{api: "concurrency = 9999999999"}, "api.concurrency", "9999999999 is out of range"},
		{"a negative rate limit is refused", fragment{api: "rate_limit = -1"}, "api.rate_limit", "-1 must be a number of requests per second"},
		{"a NaN rate limit is refused", fragment{api: "rate_limit = nan"}, "api.rate_limit", "NaN must be a number"},
		{"batch_upload must be a boolean", fragment{api: `batch_upload = "yes"`}, "api.batch_upload", "must be true or false, not a string"},
		{"max_file_size above the API's 10MiB is refused", fragment{api: `max_file_size = "11MB"`}, "api.max_file_size", "11MB is out of range: more than 0 and at most 10MiB"},
		{"a malformed size is refused", fragment{api: `max_file_size = "10 megs"`}, "api.max_file_size", `invalid size "10 megs"`},
		{"a negative size is refused", fragment{top: `receiver.max_body = -1`}, "receiver.max_body", "-1B must be more than 0"},
		{"a size of another type is refused", fragment{top: `receiver.max_body = 1.5`}, "receiver.max_body", "must be a size"},
		{"max_files above 100 is refused", fragment{top: "batch.max_files = 101"}, "batch.max_files", "101 is out of range 1..100"},
		{"max_bytes above 200MiB is refused", fragment{top: `batch.max_bytes = "300MB"`}, "batch.max_bytes", "300MB is out of range"},
		{"max_bytes below max_file_size is refused", fragment{top: `batch.max_bytes = "1MB"`}, "batch.max_bytes", "1MB is smaller than api.max_file_size (10MiB)"},
		{"a listen address without a port is refused", fragment{top: `receiver.listen = "localhost"`}, "receiver.listen", `"localhost" is not host:port`},
		{"a listen port out of range is refused", fragment{top: `receiver.listen = "127.0.0.1:99999"`}, "receiver.listen", `"127.0.0.1:99999" has no valid port number (0..65535)`},
		{"a webhook path must start with a slash", fragment{top: `receiver.path = "webhooks"`}, "receiver.path", `"webhooks" must start with "/"`},
		{"a bad admin address is refused", fragment{top: `admin.listen = "nonsense"`}, "admin.listen", `"nonsense" is not host:port`},
		{"a report time past 23:59 is refused", fragment{top: `report.at = "24:00"`}, "report.at", `"24:00" is not a time of day`},
		{"a 12-hour report time is refused", fragment{top: `report.at = "2pm"`}, "report.at", `"2pm" is not a time of day`},
		{"a TOML local time with seconds is refused", fragment{top: `report.at = 02:00:30`}, "report.at", "must be a time of day"},
		{"an unknown time zone is refused", fragment{top: `report.timezone = "Mars/Olympus"`}, "report.timezone", `unknown time zone "Mars/Olympus"`},
		{"an unknown log format is refused", fragment{top: `log.format = "xml"`}, "log.format", `"xml" is not one of "text", "json"`},
		{"an unknown log level is refused", fragment{top: `log.level = "verbose"`}, "log.level", `"verbose" is not one of`},
		{"state_dir must be a string", fragment{top: `state_dir = 5`}, "state_dir", "must be a string, not an integer"},
		{"output_dir inside a watched folder is refused", fragment{top: `output_dir = "/srv/invoices/inbox/out"`}, "output_dir", `"/srv/invoices/inbox/out" is inside source[0].path`},
		{"output_dir below a non-recursive folder is refused too (its users could rename it)", fragment{top: `output_dir = "/srv/invoices/inbox/out"`, source: "recursive = false"}, "output_dir", `"/srv/invoices/inbox/out" is inside source[0].path: the source would pick up the daemon's own files, and the inbox's users could rename or replace them`},
		{"a source needs a name", fragment{from: `name = "inbox"`}, "source[0].name", "missing"},
		{"a source name with a space is refused", fragment{from: `name = "inbox"`, to: `name = "my inbox"`}, "source[0].name", `"my inbox" may only hold letters`},
		{"source names are unique", fragment{extra: "[[source]]\nname = \"inbox\"\npath = \"/srv/other\""}, "source[1].name", `duplicate name "inbox"`},
		{"two sources on one folder are refused", fragment{extra: "[[source]]\nname = \"again\"\npath = \"/srv/invoices/inbox/\""}, "source[1].path", `"/srv/invoices/inbox" is the same folder as source[0].path ("/srv/invoices/inbox")`},
		{"a relative source path is refused", fragment{from: `path = "/srv/invoices/inbox"`, to: `path = "inbox"`}, "source[0].path", `"inbox" must be an absolute path`},
		{"a source needs a path or a url", fragment{from: `path = "/srv/invoices/inbox"`}, "source[0]", "missing: set path (a folder) or url (a bucket)"},
		{"a source cannot have both path and url", fragment{source: `url = "s3://b/p"`}, "source[0]", "set either path (a folder) or url (a bucket), not both"},
		{"a bucket url needs a scheme", fragment{from: `path = "/srv/invoices/inbox"`, to: `url = "bucket/prefix"`}, "source[0].url", `"bucket/prefix" needs a scheme`},
		{"a malformed include pattern is refused", fragment{source: `include = ["*.pdf", "[a-"]`}, "source[0].include[1]", `"[a-" is not a valid pattern`},
		{"an empty include list is refused", fragment{source: `include = []`}, "source[0].include", "must list at least one pattern"},
		{"exclude must hold strings", fragment{source: `exclude = [".*", 3]`}, "source[0].exclude[1]", "must be a string, not an integer"},
		{"include must be an array", fragment{source: `include = "*.pdf"`}, "source[0].include", "must be an array of strings, not a string"},
		{"an unknown after is refused", fragment{source: `after = "archive"`}, "source[0].after", `"archive" is not one of "keep", "move", "delete"`},
		{"after = move needs move_to", fragment{source: `after = "move"`}, "source[0].move_to", `missing: required when after = "move"`},
		{"move_to must be absolute for a folder", fragment{source: "after = \"move\"\nmove_to = \"done\""}, "source[0].move_to", `"done" must be an absolute directory`},
		{"move_to inside a recursive folder is refused", fragment{source: "after = \"move\"\nmove_to = \"/srv/invoices/inbox/done\""}, "source[0].move_to", `"/srv/invoices/inbox/done" is inside the watched folder`},
		{"move_to without after = move is refused", fragment{source: `move_to = "/srv/done"`}, "source[0].move_to", `is only used when after = "move"`},
		{"move_rejected_to without after = move is refused", fragment{source: "after = \"delete\"\nmove_rejected_to = \"/srv/rejected\""}, "source[0].move_rejected_to", `is only used when after = "move"`},
		{"move_rejected_to inside a recursive folder is refused", fragment{source: "after = \"move\"\nmove_to = \"/srv/done\"\nmove_rejected_to = \"rejected\""}, "source[0].move_rejected_to", `"rejected" (/srv/invoices/inbox/rejected) is inside the watched folder`},
		{"move_rejected_to inside output_dir is refused", fragment{source: "after = \"move\"\nmove_to = \"/srv/done\"\nmove_rejected_to = \"/var/lib/docuparse-ingest/out/rejected\""}, "source[0].move_rejected_to", `"/var/lib/docuparse-ingest/out/rejected" is inside output_dir`},
		{"move_rejected_to inside another source is refused", fragment{source: "after = \"move\"\nmove_to = \"/srv/done\"\nmove_rejected_to = \"/srv/other/rejected\"", extra: "[[source]]\nname = \"other\"\npath = \"/srv/other\""}, "source[0].move_rejected_to", `"/srv/other/rejected" is inside source[1].path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.in.text(), withSecrets())
			if err == nil {
				t.Fatalf("Parse succeeded, want an error for %s", tt.key)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error is not ErrInvalid: %v", err)
			}
			fes := fieldErrors(t, err)
			if len(fes) != 1 {
				t.Fatalf("want exactly one problem, got %d:\n%v", len(fes), err)
			}
			prefix := "config.toml: " + tt.key + ": " + tt.msg
			if line := fes[0].Error(); !strings.HasPrefix(line, prefix) {
				t.Fatalf("error\n  %s\nwant it to start with\n  %s", line, prefix)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error reveals a password: %v", err)
			}
		})
	}
}

func TestParseAcceptsEdgeValues(t *testing.T) {
	tests := []struct {
		name string
		in   fragment
	}{
		{"max_file_size of 10MB fits under the 10MiB limit", fragment{api: `max_file_size = "10MB"`}},
		{"rate_limit 0 means unlimited", fragment{api: "rate_limit = 0"}},
		{"a receiver on any interface", fragment{top: `receiver.listen = ":8080"`}},
		{"a one-digit report hour", fragment{top: `report.at = "2:30"`}},
		{"UTC reports", fragment{top: `report.timezone = "UTC"`}},
		{"move_to beside the watched folder", fragment{source: "after = \"move\"\nmove_to = \"/srv/invoices/done\""}},
		{"move_to below a non-recursive folder", fragment{source: "recursive = false\nafter = \"move\"\nmove_to = \"/srv/invoices/inbox/done\""}},
		{"move_rejected_to beside the watched folder", fragment{source: "after = \"move\"\nmove_to = \"/srv/invoices/done\"\nmove_rejected_to = \"/srv/invoices/rejected\""}},
		{"delete after export", fragment{source: `after = "delete"`}},
		{"sources as an inline array of tables", fragment{top: `source = [{name = "a", path = "/a"}, {name = "b", path = "/b"}]`, from: "[[source]]\nname = \"inbox\"\npath = \"/srv/invoices/inbox\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parse(t, tt.in.text(), withSecrets()); err != nil {
				t.Fatalf("Parse: %v", err)
			}
		})
	}
}

func TestParseReportsAllProblemsAtOnce(t *testing.T) {
	text := `
[api]
concurrency = 0

[batch]
max_wait = "5x"

[[source]]
name = "inbox"
path = "/in"

[[source]]
name = "inbox"
path = "relative"
`
	_, err := parse(t, text, env(nil))
	// Values that cannot be read come first, then validation in schema order.
	want := []string{
		`config.toml: batch.max_wait: invalid duration "5x"`,
		`config.toml: api.base_url: missing`,
		`config.toml: api.api_key_file: not set, and DOCUPARSE_API_KEY is empty: set one of them`,
		`config.toml: api.concurrency: 0 is out of range 1..64`,
		`config.toml: receiver.secret_file: not set, and DOCUPARSE_WEBHOOK_SECRET is empty: set one of them`,
		`config.toml: source[1].name: duplicate name "inbox"`,
		`config.toml: source[1].path: "relative" must be an absolute path`,
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], want[i])
		}
	}
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrMissingSecret) || errors.Is(err, ErrUnknownKey) {
		t.Errorf("sentinels: invalid %v, missing secret %v, unknown key %v",
			errors.Is(err, ErrInvalid), errors.Is(err, ErrMissingSecret), errors.Is(err, ErrUnknownKey))
	}
}

func TestParseRejectsUnknownKeys(t *testing.T) {
	text := `
stat_dir = "/x"

[api]
base_url = "https://api.example.com/api/v1"
api_key = "` + testKey + `"

[batch]
max_wiat = "5s"

[metrics]
enabled = true
port = 9100

[[source]]
name = "a"
path = "/a"

[[source]]
name = "b"
path = "/b"
recursve = false
`
	_, err := parse(t, text, withSecrets())
	if !errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrInvalid) {
		t.Fatalf("want only unknown-key errors, got %v", err)
	}
	assertNoSecret(t, "unknown key error", err.Error())
	want := map[string]string{
		"stat_dir":           `unknown key: did you mean "state_dir"?`,
		"api.api_key":        "unknown key: secrets are not read from this file; set DOCUPARSE_API_KEY or api.api_key_file",
		"batch.max_wiat":     `unknown key: did you mean "max_wait"?`,
		"metrics":            "unknown key",
		"source[1].recursve": `unknown key: did you mean "recursive"?`,
	}
	fes := fieldErrors(t, err)
	if len(fes) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(fes), len(want), err)
	}
	for _, fe := range fes {
		if msg, ok := want[fe.Key]; !ok || fe.Msg != msg || fe.File != "config.toml" {
			t.Errorf("unexpected problem %q (want message %q)", fe.Error(), msg)
		}
	}
}

func TestParseReportsStructuralMistakes(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"[source] instead of [[source]]", "[source]\nname = \"a\"\npath = \"/a\"\n",
			"config.toml: source: must be written as [[source]] tables (one per source), not a table"},
		{"a table given a plain value", "api = 5\n", "config.toml: api: must be a table [api], not an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.text, withSecrets())
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseGivesFileAndLineForSyntaxErrors(t *testing.T) {
	_, err := parse(t, "[api]\nbase_url = \"https://x\"\nconcurrency = = 4\n", withSecrets())
	if err == nil || !errors.Is(err, ErrSyntax) {
		t.Fatalf("want ErrSyntax, got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "config.toml:3:") {
		t.Fatalf("error %q does not start with config.toml:3:", err)
	}
}

func TestLoad(t *testing.T) {
	t.Run("a missing file is an error naming it", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "nope.toml")
		_, err := Load(p, withSecrets())
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), p) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("relative directories resolve against the file's directory", func(t *testing.T) {
		dir := t.TempDir()
		p := writeFile(t, dir, "config.toml", "state_dir = \"state\"\n"+minimal)
		c, err := Load(p, withSecrets())
		if err != nil {
			t.Fatal(err)
		}
		if c.StateDir != filepath.Join(dir, "state") || c.OutputDir != filepath.Join(dir, "state", "out") || c.Name() != p {
			t.Fatalf("state_dir %q output_dir %q name %q", c.StateDir, c.OutputDir, c.Name())
		}
	})
	t.Run("errors name the file as given", func(t *testing.T) {
		p := writeFile(t, t.TempDir(), "ingest.toml", "bogus = 1\n"+minimal)
		_, err := Load(p, withSecrets())
		if err == nil || err.Error() != p+": bogus: unknown key" {
			t.Fatalf("got %v", err)
		}
	})
}

// FuzzParse checks that no input makes Parse panic and that no error ever
// shows a secret. Run with: go test -fuzz FuzzParse ./internal/config/
func FuzzParse(f *testing.F) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add(minimal)
	f.Add("[source]\nname = 1\n")
	f.Add("source = [1, {name = \"x\"}]\napi = {base_url = 5, timeout = {a = 1}}\n")
	f.Add("[api.timeout]\nx = 1\n[[source]]\nrecursve = [[1]]\n")
	f.Add("report.at = 1979-05-27T07:32:00Z\nbatch.max_bytes = \"9223372036854775807GiB\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := parse(t, text, withSecrets())
		if err != nil {
			assertNoSecret(t, "error", err.Error())
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate refuses: %v", err)
		}
	})
}

func TestLoadWithoutSecretsAcceptsMissingSecretsButNothingElse(t *testing.T) {
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	good := "[api]\nbase_url = \"https://example.com/api/v1\"\n\n[[source]]\nname = \"inbox\"\npath = \"" + inbox + "\"\n"
	path := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(path, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }
	if _, err := Load(path, noEnv); !errors.Is(err, ErrMissingSecret) {
		t.Fatalf("Load without secrets: %v, want ErrMissingSecret", err)
	}
	cfg, err := LoadWithoutSecrets(path, noEnv)
	if err != nil || cfg.API.APIKey.Reveal() != "" {
		t.Fatalf("LoadWithoutSecrets: %v", err)
	}
	if err := os.WriteFile(path, []byte(good+"\n[batch]\nmax_wait = \"5x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadWithoutSecrets(path, noEnv); !errors.Is(err, ErrInvalid) || errors.Is(err, ErrMissingSecret) {
		t.Fatalf("a bad value must still be an error (and only it): %v", err)
	}
}
