package config

import (
	"log/slog"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// DefaultPath is where the commands look for the configuration file when
// --config is not given.
const DefaultPath = "/etc/docuparse-ingest/config.toml"

// Environment variables the configuration reads.
const (
	// EnvAPIKey holds the DocuParse API key when api.api_key_file is unset.
	EnvAPIKey = "DOCUPARSE_API_KEY"
	// EnvWebhookSecret holds one or more webhook secrets, separated by
	// commas or white space (several during a rotation).
	EnvWebhookSecret = "DOCUPARSE_WEBHOOK_SECRET"
	// EnvCredentialsDirectory is set by systemd for units with
	// LoadCredential=; relative secret file names are looked up there first.
	EnvCredentialsDirectory = "CREDENTIALS_DIRECTORY"
)

// MaxReceiverBody is the largest receiver.max_body accepted: the API's
// webhook bodies are small JSON documents.
const MaxReceiverBody = 16 * MB

// MinEventAge is the shortest receiver.max_event_age accepted: the API's
// retries of one delivery span 24 hours and carry its original timestamp.
const MinEventAge = 24 * time.Hour

// Config is the whole configuration of the daemon and its commands. The JSON
// names are the TOML keys, so json.Marshal of a Config shows the effective
// configuration (with every secret redacted).
type Config struct {
	// StateDir holds the SQLite state database. Relative paths are resolved
	// against the configuration file's directory.
	// Defaults to /var/lib/docuparse-ingest.
	StateDir string `json:"state_dir"`
	// OutputDir receives the JSON results, CSV files and reports. Relative
	// paths are resolved against the configuration file's directory.
	// Defaults to <state_dir>/out.
	OutputDir string `json:"output_dir"`
	// OutputURL, when set, is a bucket URL (see Source.URL) that mirrors
	// each JSON result, each day's CSV files once the day is closed, and
	// the reports, exactly once each.
	OutputURL string `json:"output_url,omitempty"`

	API       API       `json:"api"`
	Batch     Batch     `json:"batch"`
	Receiver  Receiver  `json:"receiver"`
	Reconcile Reconcile `json:"reconcile"`
	Report    Report    `json:"report"`
	Output    Output    `json:"output"`
	Admin     Admin     `json:"admin"`
	Log       Log       `json:"log"`
	State     State     `json:"state"`
	// Sources are the [[source]] tables, in file order. At least one is
	// required.
	Sources []Source `json:"source"`

	// name is the file the configuration came from, used in error messages.
	name string
}

// API is the [api] table: how to reach the DocuParse API.
type API struct {
	// BaseURL is the API's base URL, http or https, without a trailing
	// slash (one is removed), e.g. https://example.com/api/v1. Required.
	BaseURL string `json:"base_url"`
	// APIKey is the bearer key, from api_key_file or else DOCUPARSE_API_KEY.
	// Required.
	APIKey Secret `json:"api_key"`
	// APIKeyFile is the resolved path the key was read from, or empty when
	// it came from the environment.
	APIKeyFile string `json:"api_key_file,omitempty"`
	// BatchUpload selects POST /batches; false sends each file to
	// POST /extract. Defaults to true.
	BatchUpload bool `json:"batch_upload"`
	// Concurrency is the number of uploads in flight, 1 to 64.
	// Defaults to 4.
	Concurrency int `json:"concurrency"`
	// RateLimit is the request rate in requests per second; 0 means
	// unlimited. Defaults to 10.
	RateLimit float64 `json:"rate_limit"`
	// Timeout bounds one HTTP attempt. Defaults to 60 seconds.
	Timeout Duration `json:"timeout"`
	// MaxFileSize rejects larger files locally; it cannot exceed the API's
	// 10 MiB limit. Defaults to 10 MiB (10,485,760 bytes).
	MaxFileSize Size `json:"max_file_size"`
	// DocumentType is an optional hint sent with uploads, e.g. "invoice".
	// Defaults to empty (no hint).
	DocumentType string `json:"document_type"`
	// MaxUnusableAnswers is how many answers that cannot be recorded (a
	// 2xx listing fewer documents than files sent, or in another shape; a
	// replay of a key whose files are gone answered 404) a batch or file
	// gets before its upload stops and its files show as stuck, 1 to 100.
	// Defaults to 5.
	MaxUnusableAnswers int `json:"max_unusable_answers"`
}

// Batch is the [batch] table: when a local batch is closed and sent.
type Batch struct {
	// MaxFiles closes a batch at this many files, 1 to 100. Defaults to 50.
	MaxFiles int `json:"max_files"`
	// MaxBytes closes a batch before it would exceed this size; at most
	// 200 MiB and at least api.max_file_size. Defaults to 100 MB.
	MaxBytes Size `json:"max_bytes"`
	// MaxWait closes a batch this long after its first file.
	// Defaults to 5 seconds.
	MaxWait Duration `json:"max_wait"`
}

// Receiver is the [receiver] table: the embedded webhook endpoint.
type Receiver struct {
	// Enabled runs the webhook receiver; false is poll-only mode.
	// Defaults to true.
	Enabled bool `json:"enabled"`
	// Listen is the host:port to listen on. Defaults to 127.0.0.1:8080.
	Listen string `json:"listen"`
	// Path is the URL path webhooks are posted to; it starts with "/".
	// Defaults to /webhooks/docuparse.
	Path string `json:"path"`
	// Secrets are the webhook signing secrets; a signature made with any of
	// them is accepted. They come from DOCUPARSE_WEBHOOK_SECRET, secret_file
	// and secret_files together, duplicates removed. Required when Enabled.
	Secrets []Secret `json:"secrets"`
	// SecretFiles are the resolved paths of secret_file and secret_files.
	SecretFiles []string `json:"secret_files,omitempty"`
	// MaxBody is the largest accepted request body, at most MaxReceiverBody.
	// Defaults to 1 MB.
	MaxBody Size `json:"max_body"`
	// MaxEventAge is the replay window: a verified delivery whose signed
	// timestamp is older than this is refused (and counted), as is one
	// stamped more than 15 minutes ahead of this host's clock. The API
	// retries a delivery for 24 hours with its original timestamp, so it is
	// 0 (no window) or at least MinEventAge. Defaults to 36 hours.
	MaxEventAge Duration `json:"max_event_age"`
	// AllowUnsigned accepts requests without a valid signature (TOML key
	// insecure_skip_verify). For local testing only. Defaults to false.
	AllowUnsigned bool `json:"insecure_skip_verify"`
}

// Reconcile is the [reconcile] table: the polling fallback.
type Reconcile struct {
	// WebhookGrace is how long a submitted document waits for its webhook
	// before it is polled. Defaults to 5 minutes.
	WebhookGrace Duration `json:"webhook_grace"`
	// PollInterval is how often the reconciler runs. Defaults to 30 seconds.
	PollInterval Duration `json:"poll_interval"`
	// StuckAfter reports a document as stuck when it has had no result for
	// this long; it must be longer than WebhookGrace. Defaults to 24 hours.
	StuckAfter Duration `json:"stuck_after"`
}

// Report is the [report] table: the nightly reconciliation report.
type Report struct {
	// At is the time of day the report for the previous day is written,
	// "HH:MM" on a 24-hour clock. Defaults to "02:00".
	At string `json:"at"`
	// Timezone is an IANA zone name such as "Europe/Berlin", or "Local" or
	// "UTC". It also decides which day a result belongs to.
	// Defaults to "Local".
	Timezone string `json:"timezone"`

	loc *time.Location
}

// Output is the [output] table: options of the CSV files for spreadsheets.
// The columns DESIGN fixes are never changed; each option only adds to a
// file begun after it is set, and a file keeps how it began (see
// docs/operations.md, "Spreadsheet options").
type Output struct {
	// CSVBOM begins each new CSV file with a UTF-8 byte-order mark, so a
	// spreadsheet opening it directly (Excel) reads "Café" as UTF-8.
	// Defaults to false.
	CSVBOM bool `json:"csv_bom"`
	// LineItemsContext appends the columns file_name, merchant and currency
	// after the fixed columns of each new line_items-<day>.csv, so it can be
	// read alone. Defaults to false.
	LineItemsContext bool `json:"line_items_context"`
}

// MinRetention is the shortest state.retention accepted (other than 0):
// a week keeps a document's detail past the API's 24 hours of webhook
// retries, the previous day's report, and a daemon stopped over a weekend
// writing the reports it missed when it starts again.
const MinRetention = 7 * 24 * time.Hour

// State is the [state] table: what the state database keeps.
type State struct {
	// Retention is how long an exported document keeps its detail (its
	// result JSON, the webhook events applied to it, its batch's submit
	// answer) in the state database; what dedupe, the known-file check
	// and the reports count by is kept for ever. 0 keeps everything.
	// Defaults to 0.
	Retention Duration `json:"retention"`
}

// Admin is the [admin] table: health and metrics endpoints.
type Admin struct {
	// Listen is the host:port of /healthz, /readyz and /metrics; empty
	// disables the admin server. Defaults to 127.0.0.1:9090.
	Listen string `json:"listen"`
}

// Log is the [log] table.
type Log struct {
	// Format is "text" or "json". Defaults to "text".
	Format string `json:"format"`
	// Level is "debug", "info", "warn" or "error". Defaults to "info".
	Level string `json:"level"`
}

// Source is one [[source]] table: a folder or a bucket prefix to ingest.
type Source struct {
	// Name identifies the source in the store, outputs and logs; unique,
	// letters, digits, '_', '.' and '-'. Required.
	Name string `json:"name"`
	// Path is an absolute local directory. Exactly one of Path and URL is
	// set.
	Path string `json:"path,omitempty"`
	// URL is a gocloud blob URL: s3://bucket/prefix/?region=…,
	// gs://bucket/prefix/, azblob://container/prefix/, file:///dir/ or
	// mem://name/prefix/ (see internal/bucket). Its path is the prefix
	// that plays the folder's part; its query goes to the driver as
	// written.
	URL string `json:"url,omitempty"`
	// PollInterval is how often a bucket source lists its prefix (with
	// jitter). Defaults to 30 seconds. Bucket sources only.
	PollInterval Duration `json:"poll_interval,omitempty"`
	// AfterPrefix is where a bucket source's after = "move" copies objects:
	// under AfterPrefix + "processed/" or + "failed/". Defaults to the
	// parent of the URL's prefix ("" for a prefix at the bucket's root).
	// Bucket sources only.
	AfterPrefix string `json:"after_prefix,omitempty"`
	// Include lists the base-name patterns (path.Match syntax) to ingest.
	// Defaults to ["*.pdf", "*.csv"].
	Include []string `json:"include"`
	// Exclude lists base-name patterns to skip, for files and directories.
	// Defaults to [".*", "*.tmp", "*.part", "*~"] when the key is absent;
	// an explicit empty list excludes nothing.
	Exclude []string `json:"exclude"`
	// Recursive also ingests subdirectories (sub-prefixes). Defaults to true.
	Recursive bool `json:"recursive"`
	// Settle is how long a file's size and modification time must stay
	// unchanged before it is taken. Defaults to 2 seconds.
	Settle Duration `json:"settle"`
	// After is what happens to the file once its result is exported:
	// "keep", "move" or "delete". Defaults to "keep".
	After string `json:"after"`
	// MoveTo is where files go when After is "move": an absolute directory
	// for a folder source (outside Path when Recursive), a key prefix for a
	// bucket source.
	MoveTo string `json:"move_to,omitempty"`
	// MoveRejectedTo is where files go when After is "move" and their
	// document was rejected (unreadable, too large, of a wrong type, or
	// refused by the API): a directory, absolute or relative to Path, kept
	// apart like MoveTo. Empty (the default): rejected files stay where
	// they are, as they do under "delete" — a file never read may be the
	// only copy of an invoice. See RejectedDir.
	MoveRejectedTo string `json:"move_rejected_to,omitempty"`
	// Dedupe turns a file whose content was already processed into a
	// "duplicate" row instead of an upload. Defaults to true.
	Dedupe bool `json:"dedupe"`
	// Rescan is the interval of the periodic full listing, the safety net
	// under file-system events. Defaults to 60 seconds.
	Rescan Duration `json:"rescan"`
	// EmptyWait is how long an empty file is given to receive its content
	// (a placeholder a scanner or a download fills later) before it is
	// rejected as EMPTY_FILE, counted from its modification time. Defaults
	// to 10 minutes.
	EmptyWait Duration `json:"empty_wait"`
}

// RejectedDir returns the absolute folder rejected files are moved to
// (MoveRejectedTo resolved against Path), or "" when they stay.
func (s Source) RejectedDir() string {
	switch {
	case s.MoveRejectedTo == "":
		return ""
	case filepath.IsAbs(s.MoveRejectedTo) || s.Path == "":
		return filepath.Clean(s.MoveRejectedTo)
	}
	return filepath.Join(s.Path, s.MoveRejectedTo)
}

// Default include and exclude patterns of a source.
var (
	DefaultInclude = []string{"*.pdf", "*.csv"}
	DefaultExclude = []string{".*", "*.tmp", "*.part", "*~"}
)

// Default returns the configuration with every default filled in. It has no
// base URL, secrets or sources, so it does not validate on its own.
func Default() *Config {
	const stateDir = "/var/lib/docuparse-ingest"
	return &Config{
		StateDir:  stateDir,
		OutputDir: filepath.Join(stateDir, "out"),
		API: API{
			BatchUpload:        true,
			Concurrency:        4,
			MaxUnusableAnswers: 5,
			RateLimit:          10,
			Timeout:            Duration(60 * time.Second),
			MaxFileSize:        docuparse.MaxFileBytes,
		},
		Batch: Batch{
			MaxFiles: 50,
			MaxBytes: 100 * MB,
			MaxWait:  Duration(5 * time.Second),
		},
		Receiver: Receiver{
			Enabled:     true,
			Listen:      "127.0.0.1:8080",
			Path:        "/webhooks/docuparse",
			MaxBody:     1 * MB,
			MaxEventAge: Duration(36 * time.Hour),
		},
		Reconcile: Reconcile{
			WebhookGrace: Duration(5 * time.Minute),
			PollInterval: Duration(30 * time.Second),
			StuckAfter:   Duration(24 * time.Hour),
		},
		Report: Report{At: "02:00", Timezone: "Local"},
		Admin:  Admin{Listen: "127.0.0.1:9090"},
		Log:    Log{Format: "text", Level: "info"},
	}
}

// DefaultSource returns a source with every default filled in and no name,
// path or URL.
func DefaultSource() Source {
	return Source{
		Include:   append([]string(nil), DefaultInclude...),
		Exclude:   append([]string(nil), DefaultExclude...),
		Recursive: true,
		Settle:    Duration(2 * time.Second),
		After:     vocab.AfterKeep,
		Dedupe:    true,
		Rescan:    Duration(60 * time.Second),
		EmptyWait: Duration(10 * time.Minute),
	}
}

// ResolvedAfterPrefix returns where a bucket source's after = "move"
// copies objects (under processed/ and failed/): AfterPrefix, or the
// parent of the URL's prefix ("a/in/" → "a/", "in/" → ""). Empty for a
// folder source or a URL that does not parse.
func (s Source) ResolvedAfterPrefix() string {
	if s.AfterPrefix != "" {
		return strings.TrimSuffix(s.AfterPrefix, "/") + "/"
	}
	loc, err := bucket.Parse(s.URL)
	if s.URL == "" || err != nil || loc.Prefix == "" {
		return ""
	}
	parent := path.Dir(strings.TrimSuffix(loc.Prefix, "/"))
	if parent == "." {
		return ""
	}
	return parent + "/"
}

// DefaultPollInterval is how often a bucket source lists its prefix when
// poll_interval is not set.
const DefaultPollInterval = 30 * time.Second

// Location returns the report's time zone. It is time.Local for "Local" or
// an empty or unknown name (Validate rejects unknown names).
func (r *Report) Location() *time.Location {
	if r.loc != nil {
		return r.loc
	}
	if loc, err := loadLocation(r.Timezone); err == nil {
		return loc
	}
	return time.Local
}

// Clock returns the hour and minute of At. Validate rejects values it
// cannot read; for those it returns 0, 0.
func (r *Report) Clock() (hour, minute int) {
	h, m, err := parseClock(r.At)
	if err != nil {
		return 0, 0
	}
	return h, m
}

// Next returns the first moment strictly after t at which the report is due,
// in the report's time zone. On a day when the clock time does not exist
// (a daylight-saving gap) it is the moment time.Date normalises it to.
func (r *Report) Next(t time.Time) time.Time {
	loc := r.Location()
	h, m := r.Clock()
	lt := t.In(loc)
	next := time.Date(lt.Year(), lt.Month(), lt.Day(), h, m, 0, 0, loc)
	for !next.After(t) {
		lt = lt.AddDate(0, 0, 1)
		next = time.Date(lt.Year(), lt.Month(), lt.Day(), h, m, 0, 0, loc)
	}
	return next
}

// SlogLevel returns Level as a slog.Level; unknown names give slog.LevelInfo
// (Validate rejects them).
func (l Log) SlogLevel() slog.Level {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.Level)); err != nil {
		return slog.LevelInfo
	}
	return lv
}

// Name returns the file name the configuration was parsed from, or "" for a
// configuration built in code.
func (c *Config) Name() string { return c.name }
