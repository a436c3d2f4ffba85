package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // report.timezone must load on hosts without a zoneinfo database

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// Validate checks every value and returns one error joining a *FieldError
// for each problem, or nil. Parse and Load call it; call it yourself on a
// Config built in code. It caches the report's time zone.
func (c *Config) Validate() error {
	p := newProblems(c.name)
	c.validate(p)
	return p.err()
}

// validate adds a problem for every bad value whose key has no problem yet
// (a value that failed to decode is not reported twice).
func (c *Config) validate(p *problems) {
	bad := func(key string, format string, args ...any) {
		if !p.reported(key) {
			p.invalid(key, format, args...)
		}
	}
	if c.StateDir == "" {
		bad("state_dir", "must not be empty")
	}
	if c.OutputDir == "" {
		bad("output_dir", "must not be empty")
	}
	c.validateAPI(p, bad)
	c.validateReceiver(p, bad)

	b := c.Batch
	if b.MaxFiles < 1 || b.MaxFiles > docuparse.MaxBatchFiles {
		bad("batch.max_files", "%d is out of range 1..%d", b.MaxFiles, docuparse.MaxBatchFiles)
	}
	switch {
	case b.MaxBytes <= 0 || b.MaxBytes > docuparse.MaxBatchBytes:
		bad("batch.max_bytes", "%s is out of range: more than 0 and at most %s (the API's batch limit)", b.MaxBytes, Size(docuparse.MaxBatchBytes))
	case b.MaxBytes < c.API.MaxFileSize && !p.reported("api.max_file_size"):
		bad("batch.max_bytes", "%s is smaller than api.max_file_size (%s): the largest files could never be sent", b.MaxBytes, c.API.MaxFileSize)
	}
	positive(bad, "batch.max_wait", b.MaxWait)

	r := c.Reconcile
	notNegative(bad, "reconcile.webhook_grace", r.WebhookGrace)
	positive(bad, "reconcile.poll_interval", r.PollInterval)
	if positive(bad, "reconcile.stuck_after", r.StuckAfter) && r.StuckAfter <= r.WebhookGrace && !p.reported("reconcile.webhook_grace") {
		bad("reconcile.stuck_after", "%s must be longer than reconcile.webhook_grace (%s)", r.StuckAfter, r.WebhookGrace)
	}

	if _, _, err := parseClock(c.Report.At); err != nil {
		bad("report.at", "%v", err)
	}
	if loc, err := loadLocation(c.Report.Timezone); err != nil {
		bad("report.timezone", "%v", err)
	} else {
		c.Report.loc = loc
	}

	if c.Admin.Listen != "" {
		if err := checkHostPort(c.Admin.Listen); err != nil {
			bad("admin.listen", "%v (or \"\" to disable the admin server)", err)
		}
	}

	if !slices.Contains([]string{"text", "json"}, c.Log.Format) {
		bad("log.format", "%q is not one of \"text\", \"json\"", c.Log.Format)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q is not one of \"debug\", \"info\", \"warn\", \"error\"", c.Log.Level)
	}

	if rt := c.State.Retention; rt != 0 {
		switch {
		case rt.D() < MinRetention:
			bad("state.retention", "%s must be 0 (keep everything) or at least 168h (a week); e.g. \"2160h\" keeps 90 days", rt)
		case c.Receiver.MaxEventAge > rt && !p.reported("receiver.max_event_age"):
			bad("state.retention", "%s must be at least receiver.max_event_age (%s): a delivery still accepted must find its document's detail",
				rt, c.Receiver.MaxEventAge)
		}
	}

	c.validateSources(p, bad)
}

type badFunc func(key string, format string, args ...any)

func (c *Config) validateAPI(p *problems, bad badFunc) {
	a := c.API
	if a.BaseURL == "" {
		bad("api.base_url", "missing: the DocuParse API's base URL, e.g. \"https://example.com/api/v1\"")
	} else if err := checkBaseURL(a.BaseURL); err != nil {
		bad("api.base_url", "%v", err)
	}
	if a.APIKey.IsZero() && !p.reported("api.api_key_file") && !p.reported(EnvAPIKey) {
		p.add(ErrMissingSecret, "api.api_key_file", "not set, and %s is empty: set one of them", EnvAPIKey)
	}
	if a.Concurrency < 1 || a.Concurrency > 64 {
		bad("api.concurrency", "%d is out of range 1..64", a.Concurrency)
	}
	if a.MaxUnusableAnswers < 1 || a.MaxUnusableAnswers > 100 {
		bad("api.max_unusable_answers", "%d is out of range 1..100", a.MaxUnusableAnswers)
	}
	if a.RateLimit < 0 || math.IsNaN(a.RateLimit) || math.IsInf(a.RateLimit, 0) {
		bad("api.rate_limit", "%v must be a number of requests per second, 0 or more (0 = unlimited)", a.RateLimit)
	}
	positive(bad, "api.timeout", a.Timeout)
	if a.MaxFileSize <= 0 || a.MaxFileSize > docuparse.MaxFileBytes {
		bad("api.max_file_size", "%s is out of range: more than 0 and at most %s (the API's file limit)", a.MaxFileSize, Size(docuparse.MaxFileBytes))
	}
}

func (c *Config) validateReceiver(p *problems, bad badFunc) {
	r := c.Receiver
	if err := checkHostPort(r.Listen); err != nil {
		bad("receiver.listen", "%v", err)
	}
	if !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, "?# \t\r\n") {
		bad("receiver.path", "%q must start with \"/\" and hold no query, fragment or white space", r.Path)
	}
	switch {
	case r.MaxBody <= 0:
		bad("receiver.max_body", "%s must be more than 0", r.MaxBody)
	case r.MaxBody > MaxReceiverBody:
		bad("receiver.max_body", "%s is more than %s: webhook bodies are small JSON", r.MaxBody, MaxReceiverBody)
	}
	if r.MaxEventAge < 0 || (r.MaxEventAge > 0 && r.MaxEventAge.D() < MinEventAge) {
		bad("receiver.max_event_age", "%s must be 0 (no replay window) or at least 24h: the API retries a delivery for 24h with its original timestamp",
			r.MaxEventAge)
	}
	if r.Enabled && r.AllowUnsigned && !p.reported("receiver.listen") && !loopbackListen(r.Listen) {
		bad("receiver.insecure_skip_verify", "only allowed with a loopback listen address (receiver.listen is %q): anyone who can reach it could post forged results", r.Listen)
	}
	// "receiver.secret" covers secret_file and secret_files[i].
	if r.Enabled && !r.AllowUnsigned && len(r.Secrets) == 0 && !p.reportedUnder("receiver.secret") && !p.reported(EnvWebhookSecret) {
		p.add(ErrMissingSecret, "receiver.secret_file",
			"not set, and %s is empty: set one of them (or receiver.enabled = false for poll-only mode)", EnvWebhookSecret)
	}
}

func (c *Config) validateSources(p *problems, bad badFunc) {
	if len(c.Sources) == 0 {
		bad("source", "missing: at least one [[source]] table is required")
		return
	}
	names := map[string]int{}
	buckets := map[string]int{}
	for i := range c.Sources {
		s := &c.Sources[i]
		key := "source[" + strconv.Itoa(i) + "]"
		switch first, dup := names[s.Name]; {
		case s.Name == "":
			bad(key+".name", "missing: every source needs a name")
		case !validName(s.Name):
			bad(key+".name", "%q may only hold letters, digits, '_', '.' and '-'", s.Name)
		case dup:
			bad(key+".name", "duplicate name %q (also source[%d])", s.Name, first)
		default:
			names[s.Name] = i
		}

		c.validateWhere(bad, key, s, i, buckets)
		if len(s.Include) == 0 {
			bad(key+".include", "must list at least one pattern, e.g. [\"*.pdf\"]")
		}
		checkPatterns(bad, key+".include", s.Include)
		checkPatterns(bad, key+".exclude", s.Exclude)
		notNegative(bad, key+".settle", s.Settle)
		positive(bad, key+".rescan", s.Rescan)
		positive(bad, key+".empty_wait", s.EmptyWait)
		c.validateBucketKeys(bad, key, s)
		c.validateAfter(bad, key, s)
	}
	c.checkNesting(bad)
	c.checkBucketNesting(bad)
	if c.OutputURL != "" {
		if _, err := bucket.Parse(c.OutputURL); err != nil {
			bad("output_url", "%v", err)
		}
	}
}

// validateWhere checks what source i (s, named key) watches: a folder
// (path) or a bucket prefix (url), exactly one; not the same prefix as an
// earlier bucket source (buckets: by location); and not a place that is,
// holds or lies in state_dir or output_dir.
func (c *Config) validateWhere(bad badFunc, key string, s *Source, i int, buckets map[string]int) {
	dir, dirKey := s.Path, key+".path"
	switch {
	case s.Path != "" && s.URL != "":
		bad(key, "set either path (a folder) or url (a bucket), not both")
		return
	case s.Path != "":
		if !filepath.IsAbs(s.Path) {
			bad(key+".path", "%q must be an absolute path", s.Path)
			return
		}
	case s.URL != "":
		loc, err := bucket.Parse(s.URL)
		if err != nil {
			bad(key+".url", "%v", err)
			return
		}
		if first, dup := buckets[loc.String()]; dup {
			bad(key+".url", "watches the same place as source[%d] (%s)", first, loc)
		} else {
			buckets[loc.String()] = i
		}
		if loc.Scheme != "file" {
			return
		}
		dir, dirKey = filepath.Join(loc.Bucket, filepath.FromSlash(loc.Prefix)), key+".url"
	default:
		bad(key, "missing: set path (a folder) or url (a bucket)")
		return
	}
	for _, d := range c.ownDirs() {
		switch {
		case d.dir == "":
		case within(d.dir, dir, true):
			// Even below a non-recursive source: the inbox's users
			// write in its folder and could rename or replace it.
			bad(d.key, "%q is inside %s: the source would pick up the daemon's own files, and the inbox's users could rename or replace them", d.dir, dirKey)
		case within(dir, d.dir, true):
			bad(dirKey, "%q is inside %s (%q): the source would pick up the daemon's own files", dir, d.key, d.dir)
		}
	}
}

// validateBucketKeys checks the keys that only bucket sources have.
func (c *Config) validateBucketKeys(bad badFunc, key string, s *Source) {
	if s.URL == "" {
		if s.PollInterval != 0 {
			bad(key+".poll_interval", "is for bucket sources (url); a folder is watched, and rescanned every rescan")
		}
		if s.AfterPrefix != "" {
			bad(key+".after_prefix", "is for bucket sources (url); a folder source moves files to move_to")
		}
		return
	}
	notNegative(bad, key+".poll_interval", s.PollInterval)
	c.validateAfterPrefix(bad, key, s)
}

// validateAfterPrefix checks a bucket source's after_prefix: a key prefix
// (no leading '/', no empty, '.' or '..' part), only used by after = "move".
func (c *Config) validateAfterPrefix(bad badFunc, key string, s *Source) {
	if s.AfterPrefix == "" {
		return
	}
	if s.After != vocab.AfterMove {
		bad(key+".after_prefix", "is only used when after = \"move\" (after is %q)", s.After)
		return
	}
	p := strings.TrimSuffix(s.AfterPrefix, "/")
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			bad(key+".after_prefix", "%q must be a key prefix such as \"archive/\" (no leading '/', no empty, '.' or '..' part)", s.AfterPrefix)
			return
		}
	}
}

// checkBucketNesting refuses two bucket sources that would both list one
// object (the same bucket, one prefix inside another's recursive one),
// which would then become two documents.
func (c *Config) checkBucketNesting(bad badFunc) {
	for j := range c.Sources {
		b := &c.Sources[j]
		lb, err := bucket.Parse(b.URL)
		if b.URL == "" || err != nil {
			continue
		}
		for i, a := range c.Sources[:j] {
			la, err := bucket.Parse(a.URL)
			if a.URL == "" || err != nil || la.Scheme != lb.Scheme || la.Bucket != lb.Bucket || la.Prefix == lb.Prefix {
				continue
			}
			key := "source[" + strconv.Itoa(j) + "].url"
			switch {
			case a.Recursive && strings.HasPrefix(lb.Prefix, la.Prefix):
				bad(key, "%s is inside source[%d] (%s), which is recursive: its objects would be ingested twice", lb, i, la)
			case b.Recursive && strings.HasPrefix(la.Prefix, lb.Prefix):
				bad(key, "%s is recursive and holds source[%d] (%s): its objects would be ingested twice", lb, i, la)
			}
		}
	}
}

// checkNesting refuses two folder sources that would both list one file,
// which would then become two documents: the same folder, however it is
// spelled (a symbolic link, a trailing slash), or a folder inside a
// recursive one. A folder below a non-recursive source is fine: that source
// lists only its own folder. The later source's path is the key; the
// message names the earlier one.
func (c *Config) checkNesting(bad badFunc) {
	for j := range c.Sources {
		b := &c.Sources[j]
		if b.URL != "" || !filepath.IsAbs(b.Path) {
			continue
		}
		key := "source[" + strconv.Itoa(j) + "].path"
		for i, a := range c.Sources[:j] {
			if a.URL != "" || !filepath.IsAbs(a.Path) {
				continue
			}
			other := "source[" + strconv.Itoa(i) + "].path"
			switch {
			case realPath(b.Path) == realPath(a.Path):
				bad(key, "%s is the same folder as %s (%s): its files would be ingested twice", showPath(b.Path), other, showPath(a.Path))
			case a.Recursive && within(b.Path, a.Path, true):
				bad(key, "%s is inside %s (%s), which is recursive: its files would be ingested twice", showPath(b.Path), other, showPath(a.Path))
			case b.Recursive && within(a.Path, b.Path, true):
				bad(key, "%s is recursive and holds %s (%s): its files would be ingested twice", showPath(b.Path), other, showPath(a.Path))
			}
		}
	}
}

func (c *Config) validateAfter(bad badFunc, key string, s *Source) {
	switch s.After {
	case vocab.AfterKeep, vocab.AfterDelete:
		if s.MoveTo != "" {
			bad(key+".move_to", "is only used when after = \"move\" (after is %q)", s.After)
		}
		if s.MoveRejectedTo != "" {
			bad(key+".move_rejected_to", "is only used when after = \"move\" (after is %q): rejected files always stay where they are otherwise", s.After)
		}
	case vocab.AfterMove:
		switch {
		case s.URL != "" && (s.MoveTo != "" || s.MoveRejectedTo != ""):
			bad(key+".move_to", "bucket sources move objects under processed/ and failed/ beside the prefix; set after_prefix to choose where, not move_to or move_rejected_to")
		case s.URL != "":
		case s.MoveTo == "":
			bad(key+".move_to", "missing: required when after = \"move\"")
		case s.Path != "" && !filepath.IsAbs(s.MoveTo):
			bad(key+".move_to", "%q must be an absolute directory for a folder source", s.MoveTo)
		case s.Path != "":
			c.checkMoveDir(bad, key+".move_to", s, s.MoveTo, fmt.Sprintf("%q", s.MoveTo))
		}
		if s.MoveRejectedTo != "" && s.Path != "" && filepath.IsAbs(s.Path) {
			shown := fmt.Sprintf("%q", s.MoveRejectedTo)
			if !filepath.IsAbs(s.MoveRejectedTo) {
				shown += " (" + s.RejectedDir() + ")"
			}
			c.checkMoveDir(bad, key+".move_rejected_to", s, s.RejectedDir(), shown)
		}
	default:
		bad(key+".after", "%q is not one of %s", s.After, quoted(vocab.AfterActions))
	}
}

// ownDirs are the directories the daemon writes to, with their keys.
func (c *Config) ownDirs() []struct{ key, dir string } {
	return []struct{ key, dir string }{{"output_dir", c.OutputDir}, {"state_dir", c.StateDir}}
}

// checkMoveDir refuses dir, where the folder source s moves files to
// (move_to or move_rejected_to, named by key and shown as shown), when it
// is s's own watched folder or inside it (recursive), or is (or is inside)
// the state or output directory, or holds one of them, or is a folder
// another source watches: the moved files would be seen again, mixed with
// the daemon's own files (which the inbox's users, who write in dir, could
// then rename or replace), or ingested again.
func (c *Config) checkMoveDir(bad badFunc, key string, s *Source, dir, shown string) {
	if within(dir, s.Path, s.Recursive) {
		bad(key, "%s is inside the watched folder: moved files would be seen again", shown)
		return
	}
	for _, d := range c.ownDirs() {
		if d.dir != "" && within(dir, d.dir, true) {
			bad(key, "%s is inside %s (%q): moved files would be mixed with the daemon's own files", shown, d.key, d.dir)
			return
		}
	}
	for _, d := range c.ownDirs() {
		if d.dir != "" && within(d.dir, dir, true) {
			bad(key, "%s holds %s (%q): the inbox's users, who write in it, could rename or replace the daemon's own files", shown, d.key, d.dir)
			return
		}
	}
	for j := range c.Sources {
		o := &c.Sources[j]
		if o != s && o.Path != "" && filepath.IsAbs(o.Path) && within(dir, o.Path, o.Recursive) {
			bad(key, "%s is inside source[%d].path: moved files would be ingested again", shown, j)
			return
		}
	}
}

// within reports whether dir is root itself or, when recursive, below it,
// comparing real paths (see realPath): a symbolic link is where it leads.
func within(dir, root string, recursive bool) bool {
	rel, err := filepath.Rel(realPath(root), realPath(dir))
	if err != nil {
		return false
	}
	if rel == "." {
		return true
	}
	return recursive && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// realPath returns p cleaned, with the symbolic links of its longest
// existing prefix resolved, so that two spellings of one folder give one
// string. The part of p that does not exist yet is kept as written.
func realPath(p string) string {
	p = filepath.Clean(p)
	var missing []string
	for dir := p; ; {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(append([]string{r}, missing...)...)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return p
		}
		missing = append([]string{filepath.Base(dir)}, missing...)
		dir = parent
	}
}

// showPath quotes a configured path for a message, with the folder it
// resolves to when a symbolic link makes them differ.
func showPath(p string) string {
	if r := realPath(p); r != filepath.Clean(p) {
		return fmt.Sprintf("%q (resolved: %q)", p, r)
	}
	return fmt.Sprintf("%q", p)
}

func positive(bad badFunc, key string, d Duration) bool {
	if d <= 0 {
		bad(key, "%s must be more than 0", d)
		return false
	}
	return true
}

func notNegative(bad badFunc, key string, d Duration) {
	if d < 0 {
		bad(key, "%s must not be negative", d)
	}
}

func checkPatterns(bad badFunc, key string, patterns []string) {
	for i, pat := range patterns {
		if _, err := path.Match(pat, ""); err != nil || pat == "" {
			bad(fmt.Sprintf("%s[%d]", key, i), "%q is not a valid pattern (path.Match syntax: *, ?, [a-z])", pat)
		}
	}
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		// Do not echo the value: it may hold a password.
		return errors.New("is not a valid URL (value not shown: it may hold credentials)")
	}
	if u.User != nil {
		// Do not echo the URL: it holds a password or a key.
		return fmt.Errorf("must not contain user credentials: credentials do not belong in base_url; use %s or api.api_key_file", EnvAPIKey)
	}
	if u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("%sis not an absolute http(s) URL", showURL(u))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%smust use http or https", showURL(u))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return fmt.Errorf("%smust not have a query or fragment (not shown: it may hold a secret)", showURL(u))
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		return fmt.Errorf("%suses plain http to a host that is not loopback: the API key would travel in cleartext; use https", showURL(u))
	}
	return nil
}

// showURL formats u for an error message, quoted and followed by a space,
// without anything that may hold a credential: user information, query and
// fragment are left out, and a URL with an opaque part or an '@' left in it
// is not shown at all ("").
func showURL(u *url.URL) string {
	if u.Opaque != "" {
		return ""
	}
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	shown := v.String()
	if strings.Contains(shown, "@") {
		return ""
	}
	return strconv.Quote(shown) + " "
}

// loopbackHost reports whether host (without port) is "localhost" or a
// loopback IP address.
func loopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackListen reports whether a host:port listen address binds to
// loopback only; ":port" binds to every interface.
func loopbackListen(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	return err == nil && loopbackHost(host)
}

// checkHostPort accepts "host:port" and ":port" with a numeric port.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || strings.ContainsAny(host, " \t\r\n") {
		return fmt.Errorf("%q is not host:port, e.g. \"127.0.0.1:8080\"", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port number (0..65535)", s)
	}
	return nil
}

// parseClock reads "HH:MM" (or "H:MM") on a 24-hour clock.
func parseClock(s string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(s, ":")
	bad := fmt.Errorf("%q is not a time of day \"HH:MM\" (24-hour clock), e.g. \"02:00\"", s)
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 || !digits(h) || !digits(m) {
		return 0, 0, bad
	}
	hour, _ = strconv.Atoi(h)
	minute, _ = strconv.Atoi(m)
	if hour > 23 || minute > 59 {
		return 0, 0, bad
	}
	return hour, minute, nil
}

func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		return nil, fmt.Errorf("must not be empty: use \"Local\", \"UTC\" or a zone such as \"Europe/Berlin\"")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use \"Local\", \"UTC\" or a zone such as \"Europe/Berlin\"", name)
	}
	return loc, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func validName(s string) bool {
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'
		if !ok {
			return false
		}
	}
	return s != ""
}

// quoted lists values as "a", "b", "c".
func quoted(values []string) string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strconv.Quote(v)
	}
	return strings.Join(out, ", ")
}
