package apiclient

import (
	"context"
	"errors"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// syncBuffer collects log output written from other goroutines.
type syncBuffer = testlog.Buffer

func TestTheAPIKeyNeverAppearsInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	// A hostile server: it echoes the Authorization header everywhere, and
	// the base URL itself embeds the key.
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		echo := r.Header.Get("Authorization")
		switch {
		case strings.HasSuffix(a.Path, "/documents/refused"):
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "bad key "+echo, echo+".pdf")
		case strings.HasSuffix(a.Path, "/documents/html"):
			w.Header().Set("X-Echo", echo)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<p>your key: " + echo + "</p>"))
		case strings.HasSuffix(a.Path, "/documents/garbage"):
			_, _ = w.Write([]byte(`{"document_id": "` + testKey + `"}`))
		default: // drop the connection: a network error that quotes the URL
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}
		return true
	})
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	base := api.srv.URL + "/tenant/" + testKey + "/api/v1"
	c, _ := newClient(t, base, func(cfg *Config) {
		cfg.Logger = logger
		cfg.MaxRetries = 2
	})
	ctx := context.Background()
	f := writeFile(t, t.TempDir(), "a.pdf", []byte("a"))

	var errs []error
	for _, id := range []string{"refused", "html", "garbage", "drop", testKey} {
		_, err := c.GetDocument(ctx, id)
		errs = append(errs, err)
	}
	_, err := c.SubmitBatch(ctx, "k", uploads(f), "")
	errs = append(errs, err)
	_, err = c.Extract(ctx, "k", f.upload, "")
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d: no error", i)
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("call %d: error shows the key: %v", i, err)
		}
		var ae *APIError
		if errors.As(err, &ae) && strings.Contains(ae.Message+ae.Filename+ae.Code, testKey) {
			t.Errorf("call %d: APIError fields show the key: %+v", i, ae)
		}
		var ue *url.Error
		if errors.As(err, &ue) && strings.Contains(ue.URL, testKey) {
			t.Errorf("call %d: wrapped url.Error shows the key: %v", i, ue.URL)
		}
	}
	if !strings.Contains(errs[0].Error(), redactedMark) {
		t.Errorf("the echoed key was not visibly redacted: %v", errs[0])
	}
	out := logs.String()
	if !strings.Contains(out, "retrying") {
		t.Errorf("expected retry log lines, got %q", out)
	}
	if strings.Contains(out, testKey) {
		t.Errorf("a log line shows the key:\n%s", out)
	}
}

func TestNewChecksItsConfigWithoutQuotingSecrets(t *testing.T) {
	t.Parallel()
	good := Config{BaseURL: "http://127.0.0.1:1/api/v1/", APIKey: "dex_abc"}
	c, err := New(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.base != "http://127.0.0.1:1/api/v1" || c.cfg.Timeout.Seconds() != 60 || c.cfg.MaxRetries != 8 ||
		c.cfg.RetryWaitMin.Milliseconds() != 500 || c.cfg.RetryWaitMax.Seconds() != 30 || c.rt.limiter != nil {
		t.Errorf("defaults: %+v", c.cfg)
	}
	bad := map[string]func(*Config){
		"no base URL":       func(c *Config) { c.BaseURL = "" },
		"relative base URL": func(c *Config) { c.BaseURL = "/api/v1" },
		"ftp base URL":      func(c *Config) { c.BaseURL = "ftp://host/dex_secret" },
		"no key":            func(c *Config) { c.APIKey = "" },
		"key with space":    func(c *Config) { c.APIKey = "dex_secret x" },
		"key with newline":  func(c *Config) { c.APIKey = "dex_secret\n" },
		"negative rate":     func(c *Config) { c.RateLimit = -1 },
		"negative timeout":  func(c *Config) { c.Timeout = -1 },
	}
	for name, mod := range bad {
		cfg := good
		mod(&cfg)
		_, err := New(cfg)
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "dex_secret") {
			t.Errorf("%s: error quotes a secret: %v", name, err)
		}
	}
	c, err = New(Config{BaseURL: good.BaseURL, APIKey: "k", RateLimit: 2.5, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if c.rt.limiter.Burst() != 3 || c.cfg.MaxRetries != -1 {
		t.Errorf("burst %d, retries %d", c.rt.limiter.Burst(), c.cfg.MaxRetries)
	}
}

func TestPartFilename(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"invoice.pdf":           "invoice.pdf",
		"Reçu café 2026.pdf":    "Reçu café 2026.pdf",
		"quote\"d.csv":          "quote\"d.csv",
		"tab\there.pdf":         "tab_here.pdf",
		"nl\r\nx.pdf":           "nl__x.pdf",
		"del\x7f.pdf":           "del_.pdf",
		"c1\u0085.pdf":          "c1_.pdf",
		"bad\xff\xfeutf8.pdf":   "bad__utf8.pdf",
		"dir/evil.pdf":          "dir_evil.pdf",
		`win\path.pdf`:          "win_path.pdf",
		"":                      "_",
		"\u00a0nbsp.pdf":        "\u00a0nbsp.pdf",
		"replacement\uFFFD.pdf": "replacement\uFFFD.pdf",
	} {
		if got := PartFilename(in); got != want {
			t.Errorf("PartFilename(%q) = %q, want %q", in, got, want)
		}
	}
}
