package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// start builds and starts a server on a free loopback port; it is stopped
// when the test ends.
func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := New("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	t.Cleanup(s.Stop)
	return s
}

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends one request to the server over real HTTP, on a fresh connection.
func do(t *testing.T, s *Server, method, path string) answer {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func get(t *testing.T, s *Server, path string) answer { return do(t, s, http.MethodGet, path) }

// reachable reports whether anything answers on the server's address.
func reachable(s *Server) bool {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + s.Addr() + PathHealth)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func lines(body string) []string {
	return strings.Split(strings.TrimSuffix(body, "\n"), "\n")
}
