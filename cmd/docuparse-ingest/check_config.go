package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/ingest"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// check is one line of check-config's verdict: ok, a warning (ok, but
// risky; see config.Warnings), or a failure with its fix.
type check struct {
	ok   bool
	warn bool
	what string // what was found, worded for the outcome: "… does not exist" for a failure
	fix  string // what to do, when not ok
}

// runCheckConfig validates the configuration file and the environment the
// daemon would run in, and says exactly what to fix.
func (m *Main) runCheckConfig(ctx context.Context, args []string) error {
	fs := m.newFlags("check-config")
	path := fs.String("config", config.DefaultPath, "configuration file")
	offline := fs.Bool("offline", false, "do not contact the API")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, m.Getenv)
	if err != nil {
		fmt.Fprintln(m.Stdout, "FAIL configuration:")
		for _, line := range errorLines(err) {
			fmt.Fprintln(m.Stdout, "     "+line)
		}
		return errors.New("configuration is invalid")
	}
	checks := []check{{ok: true, what: fmt.Sprintf("%s parses; secrets present (%d webhook secret(s))", cfg.Name(), len(cfg.Receiver.Secrets))}}
	for _, w := range cfg.Warnings() {
		checks = append(checks, check{ok: true, warn: true, what: w.String()})
	}
	checks = append(checks, checkDirs(cfg)...)
	checks = append(checks, checkBuckets(ctx, cfg)...)
	checks = append(checks, checkWatches(cfg, "/proc/sys/fs/inotify/max_user_watches"))
	sysctl := m.SysctlDir
	if sysctl == "" {
		sysctl = ingest.SysctlDir
	}
	checks = append(checks, checkLinkProtection(sysctl)...)
	if *offline {
		checks = append(checks, check{ok: true, what: "API not contacted (--offline)"})
	} else {
		checks = append(checks, checkAPI(ctx, cfg))
	}
	failed := 0
	for _, c := range checks {
		if c.warn {
			fmt.Fprintf(m.Stdout, "warn %s\n", safetext.Visible(c.what))
			continue
		}
		if c.ok {
			fmt.Fprintf(m.Stdout, "ok   %s\n", safetext.Visible(c.what))
			continue
		}
		failed++
		fmt.Fprintf(m.Stdout, "FAIL %s\n     fix: %s\n", safetext.Visible(c.what), safetext.Visible(c.fix))
	}
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	return nil
}

// checkDirs checks the folders the daemon reads and writes.
func checkDirs(cfg *config.Config) []check {
	out := []check{writableDir("state_dir", cfg.StateDir), writableDir("output_dir", cfg.OutputDir)}
	for i, src := range cfg.Sources {
		if src.URL == "" { // bucket sources: checkBuckets
			out = append(out, checkSource(i, src))
		}
	}
	return out
}

// checkSource checks that source i's folder exists, is readable and, when
// files are moved or deleted after export, writable.
func checkSource(i int, src config.Source) check {
	name := fmt.Sprintf("source[%d] %q: %s", i, src.Name, src.Path)
	key := fmt.Sprintf("source[%d].path", i)
	fi, err := os.Stat(src.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return check{what: name + " does not exist", fix: "create it, or correct " + key}
	case err != nil:
		return check{what: name + " cannot be read", fix: "give the service user access, or correct " + key + ": " + errText(err)}
	case !fi.IsDir():
		return check{what: name + " is not a folder", fix: "point " + key + " at a folder"}
	}
	if _, err := os.ReadDir(src.Path); err != nil {
		return check{what: name + " is not readable", fix: "give the service user read access: " + errText(err)}
	}
	if src.After == vocab.AfterKeep {
		return check{ok: true, what: name + " is readable"}
	}
	if err := unix.Access(src.Path, unix.W_OK); err != nil {
		return check{what: name + " is not writable (after = " + src.After + ")",
			fix: fmt.Sprintf("give the service user write access, or set source[%d].after = \"keep\"", i)}
	}
	return check{ok: true, what: name + " is readable and writable (after = " + src.After + ")"}
}

// writableDir checks that dir is a writable folder or, when it does not
// exist yet, that its nearest existing parent (where the daemon creates
// it) is.
func writableDir(key, dir string) check {
	d := dir
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return check{what: key + " " + dir + ": " + d + " is not a folder", fix: "correct " + key + ", or remove " + d}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(d) == d {
			return check{what: key + " " + dir + " cannot be checked", fix: errText(err)}
		}
		d = filepath.Dir(d)
	}
	writable := unix.Access(d, unix.W_OK) == nil
	switch {
	case d == dir && writable:
		return check{ok: true, what: key + " " + dir + " is writable"}
	case d == dir:
		return check{what: key + " " + dir + " is not writable", fix: "give the service user write access to " + dir}
	case writable:
		return check{ok: true, what: key + " " + dir + " does not exist yet: the daemon will create it in " + d + ", which is writable"}
	}
	return check{what: key + " " + dir + " does not exist and cannot be created: " + d + " is not writable",
		fix: "create " + dir + " for the service user, or give it write access to " + d}
}

// checkWatches compares the folders to watch with the inotify limit: the
// daemon needs one watch per folder of every recursive source.
func checkWatches(cfg *config.Config, limitFile string) check {
	need := 0
	for _, src := range cfg.Sources {
		if src.Path == "" {
			continue
		}
		if !src.Recursive {
			need++
			continue
		}
		_ = filepath.WalkDir(src.Path, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				need++
			}
			if need > 10_000_000 {
				return filepath.SkipAll
			}
			return nil
		})
	}
	raw, err := os.ReadFile(limitFile)
	if err != nil {
		return check{ok: true, what: fmt.Sprintf("%d folder(s) to watch (inotify limit unknown: %s)", need, errText(err))}
	}
	limit, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return check{ok: true, what: fmt.Sprintf("%d folder(s) to watch (inotify limit unreadable)", need)}
	}
	what := fmt.Sprintf("%d folder(s) to watch, inotify limit %d", need, limit)
	if need*2 > limit {
		return check{what: what + " is too low", fix: fmt.Sprintf("raise it (other programs use watches too): sysctl -w fs.inotify.max_user_watches=%d, and persist it in /etc/sysctl.d/", max(need*4, 65536))}
	}
	return check{ok: true, what: what}
}

// checkLinkProtection reads the kernel's link protections under dir
// (ingest.SysctlDir on a host): a warning for each that is not on (1),
// one ok line when both are.
func checkLinkProtection(dir string) []check {
	var out []check
	for _, p := range ingest.LinkProtections(dir) {
		if !p.On() {
			out = append(out, check{ok: true, warn: true, what: p.Warning()})
		}
	}
	if len(out) == 0 {
		out = append(out, check{ok: true, what: "fs.protected_hardlinks and fs.protected_symlinks are 1"})
	}
	return out
}

// checkAPI makes one authenticated request that creates nothing: the
// answer for a document id that cannot exist tells reachable (404) from
// refused key (401) from unreachable.
func checkAPI(ctx context.Context, cfg *config.Config) check {
	url := cfg.API.BaseURL + "/documents/doc_docuparse_ingest_check"
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return check{what: "api.base_url " + cfg.API.BaseURL + " is not usable", fix: "correct api.base_url: " + errText(err)}
	}
	req.Header.Set("Authorization", "Bearer "+cfg.API.APIKey.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return check{what: "API not reachable at " + cfg.API.BaseURL,
			fix: "check api.base_url, DNS, proxy and firewall: " + strings.ReplaceAll(errText(err), cfg.API.APIKey.Reveal(), "[redacted]")}
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return check{what: fmt.Sprintf("API at %s refused the API key (HTTP %d)", cfg.API.BaseURL, resp.StatusCode),
			fix: "check " + config.EnvAPIKey + " or the file api.api_key_file names"}
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode < 300:
		return check{ok: true, what: "API reachable at " + cfg.API.BaseURL + " and the API key accepted"}
	default:
		return check{what: fmt.Sprintf("API at %s answered HTTP %d", cfg.API.BaseURL, resp.StatusCode),
			fix: "is api.base_url the API's base (…/api/v1)?"}
	}
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
