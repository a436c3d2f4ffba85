package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := map[string]string{"DOCUPARSE_API_KEY": "dex_cmd_test"}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--processing-delay", "0s"},
			func(k string) string { return env[k] }, pw, io.Discard)
		_ = pw.Close()
	}()
	base, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	base = strings.TrimSpace(base)
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/api/v1") {
		t.Fatalf("printed %q", base)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	req, _ := http.NewRequest(http.MethodGet, base+"/documents/doc_nope", nil)
	req.Header.Set("Authorization", "Bearer dex_cmd_test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestRunRefusesBadSetups(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, nil, "DOCUPARSE_API_KEY"},
		{[]string{"--webhook-url", "http://127.0.0.1:1/h"}, map[string]string{"DOCUPARSE_API_KEY": "k"}, "DOCUPARSE_WEBHOOK_SECRET"},
		{[]string{"--failure-rate", "2"}, map[string]string{"DOCUPARSE_API_KEY": "k"}, "FailureRate"},
		{[]string{"--upload-stall-rate", "2"}, map[string]string{"DOCUPARSE_API_KEY": "k"}, "UploadStallRate"},
		{[]string{"--upload-rate", "-1"}, map[string]string{"DOCUPARSE_API_KEY": "k"}, "UploadRate"},
		{[]string{"extra"}, map[string]string{"DOCUPARSE_API_KEY": "k"}, "unexpected"},
		{[]string{"--no-such-flag"}, nil, "no-such-flag"},
	} {
		err := run(context.Background(), c.args, func(k string) string { return c.env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want it to mention %s", c.args, err, c.want)
		}
	}
}

// TestHelpSaysWhichBaseURLToConfigure: --help goes to stdout, is not an
// error, and names the api.base_url and webhook URL that match the
// simulator's defaults (and its --listen, when given first).
func TestHelpSaysWhichBaseURLToConfigure(t *testing.T) {
	for args, want := range map[string]string{"--help": "http://127.0.0.1:8081/api/v1", "--listen 127.0.0.1:9999 -h": "http://127.0.0.1:9999/api/v1"} {
		var out, errb strings.Builder
		err := run(context.Background(), strings.Fields(args), func(string) string { return "" }, &out, &errb)
		if err != nil || errb.Len() != 0 {
			t.Errorf("%s: %v, stderr %q", args, err, errb.String())
		}
		for _, w := range []string{"base_url = \"" + want + "\"", "--webhook-url http://127.0.0.1:8080/webhooks/docuparse"} {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: help lacks %q:\n%s", args, w, out.String())
			}
		}
	}
}
