package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
)

// bucketConfig returns a configuration whose one source is the bucket url
// with after = action.
func bucketConfig(t *testing.T, dir, url, action string) string {
	t.Helper()
	text := (&e2e.Sim{BaseURL: "http://127.0.0.1:9/api/v1"}).Config(dir, filepath.Join(dir, "inbox"), "")
	text = strings.Replace(text, "path   = "+quote(filepath.Join(dir, "inbox")), "url    = "+quote(url)+"\nafter  = "+quote(action), 1)
	text = strings.Replace(text, `rescan = "2s"`, "", 1)
	p := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }

// TestCheckConfigChecksBucketSources: check-config opens each bucket
// source, lists one page and for delete and move proves the permissions
// with probes: one ok line with the count on gofakes3 and mem (nothing in
// the bucket touched), one FAIL line and a non-zero exit for a missing
// bucket, never the URL's query.
func TestCheckConfigChecksBucketSources(t *testing.T) {
	for _, start := range []func(testing.TB) bucketemu.Store{bucketemu.S3, bucketemu.Mem} {
		s := start(t)
		t.Run(s.Kind, func(t *testing.T) {
			b, err := bucket.Open(context.Background(), s.URL("a/in/"))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			for _, k := range []string{"a/in/x.pdf", "a/in/y.pdf", "a/z.pdf"} {
				if err := b.Blob().WriteAll(context.Background(), k, []byte(k), nil); err != nil {
					t.Fatal(err)
				}
			}
			base := s.Kind + "://" + s.Bucket + "/"
			for _, tc := range []struct{ action, want string }{
				{"keep", `ok   source[0] "inbox": ` + base + "a/in/ lists (2 object(s) on the first page)\n"},
				{"delete", `ok   source[0] "inbox": ` + base + "a/in/ lists (2 object(s) on the first page); the credentials may delete there (after = delete)\n"},
				{"move", `ok   source[0] "inbox": ` + base + "a/in/ lists (2 object(s) on the first page); the credentials may delete there and write under " + base + "a/processed/ (after = move)\n"},
			} {
				dir := t.TempDir()
				out, _, err := run(t, secretsOf("x"), "", "check-config", "--offline", "--config", bucketConfig(t, dir, s.URL("a/in/"), tc.action))
				if err != nil || !strings.Contains(out, tc.want) {
					t.Errorf("after = %s: err %v\n%s\nwant the line\n%s", tc.action, err, out, tc.want)
				}
				if strings.Contains(out, "?") || strings.Contains(out, "FAIL") {
					t.Errorf("after = %s:\n%s", tc.action, out)
				}
			}
			n := 0
			if _, err := b.List(context.Background(), "", true, func(p []bucket.Object) error { n += len(p); return nil }); err != nil || n != 3 {
				t.Errorf("the bucket holds %d objects after the checks (%v); want the 3 put there", n, err)
			}
			if s.Kind != "s3" {
				return
			}
			missing := s
			missing.Bucket = "no-such-bucket"
			out, _, err := run(t, secretsOf("x"), "", "check-config", "--offline", "--config", bucketConfig(t, t.TempDir(), missing.URL("in/"), "delete"))
			want := `FAIL source[0] "inbox": s3://no-such-bucket/in/: list s3://no-such-bucket/in/: bucket not found`
			if err == nil || !strings.Contains(out, want) || !strings.Contains(out, "fix: create the bucket, or correct source[0].url") || strings.Contains(out, "?") {
				t.Errorf("missing bucket: err %v\n%s\nwant the line\n%s", err, out, want)
			}
		})
	}
}

// check-config checks output_url too: one ok line when the bucket lists
// and takes a probe write (removed again), one FAIL line and a non-zero
// exit when the bucket is missing.
func TestCheckConfigChecksOutputURL(t *testing.T) {
	s := bucketemu.S3(t)
	for _, tc := range []struct {
		bucket, want string
		fails        bool
	}{
		{s.Bucket, "ok   output_url s3://" + s.Bucket + "/erp/ lists and may be written (outputs are mirrored there)\n", false},
		{"no-such-bucket", "FAIL output_url s3://no-such-bucket/erp/: list s3://no-such-bucket/erp/: bucket not found", true},
	} {
		dir := t.TempDir()
		out := s
		out.Bucket = tc.bucket
		cfg := bucketConfig(t, dir, s.URL("in/"), "keep")
		text, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, append([]byte("output_url = "+quote(out.URL("erp/"))+"\n"), text...), 0o600); err != nil {
			t.Fatal(err)
		}
		got, _, err := run(t, secretsOf("x"), "", "check-config", "--offline", "--config", cfg)
		if (err != nil) != tc.fails || !strings.Contains(got, tc.want) || strings.Contains(got, "?") {
			t.Errorf("output_url %s: err %v\n%s\nwant the line\n%s", tc.bucket, err, got, tc.want)
		}
	}
	if n := s.Requests("put"); n != 1 || s.Requests("delete") != 1 {
		t.Errorf("%d writes and %d deletes; want the one probe, written and removed", n, s.Requests("delete"))
	}
}
