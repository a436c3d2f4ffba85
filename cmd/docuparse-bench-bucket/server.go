package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// bucketName is the benchmark bucket; objects are under prefix.
const (
	bucketName = "bench"
	prefix     = "in/"
	countsPath = "/_bench/counts"
)

// counts is what the S3 server counted: list requests (GET on the bucket
// itself, path style) and requests of any kind.
type counts struct {
	List int64 `json:"list"`
	All  int64 `json:"all"`
}

// serveS3 is the server process: gofakes3 in memory with n objects under
// prefix, put straight into its backend, behind a middleware that counts
// the requests it serves (GET countsPath answers the counts). It prints
// its URL on stdout once it listens, and serves until stdin closes.
func serveS3(n int) error {
	backend := s3mem.New()
	if err := backend.CreateBucket(bucketName); err != nil {
		return err
	}
	for i := range n {
		body := fmt.Sprintf("%%PDF-1.4 %d", i)
		if _, err := backend.PutObject(bucketName, objectKey(i), map[string]string{}, strings.NewReader(body), int64(len(body)), nil); err != nil {
			return err
		}
	}
	var list, all atomic.Int64
	s3 := gofakes3.New(backend, gofakes3.WithAutoBucket(false)).Server()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == countsPath {
			_ = json.NewEncoder(w).Encode(counts{List: list.Load(), All: all.Load()})
			return
		}
		all.Add(1)
		if r.Method == http.MethodGet && strings.Trim(r.URL.Path, "/") == bucketName {
			list.Add(1)
		}
		s3.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the driver goes
	return srv.Close()
}

// objectKey is the i-th object's key: 50 "folders" under the prefix.
func objectKey(i int) string { return fmt.Sprintf("%sd%02d/obj-%07d.pdf", prefix, i%50, i) }

// s3Server is the server process, seen from the driver.
type s3Server struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string // http://host:port
}

// startS3 starts this program's serve-s3 mode with n objects.
func startS3(ctx context.Context, n int) (*s3Server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "serve-s3", "-objects", fmt.Sprint(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("the S3 server did not start: %w", err)
	}
	return &s3Server{cmd: cmd, stdin: stdin, url: strings.TrimSpace(line)}, nil
}

// bucketURL is the gocloud URL of the benchmark prefix, as a user writes
// it for an S3-compatible store.
func (s *s3Server) bucketURL() string {
	return "s3://" + bucketName + "/" + prefix + "?endpoint=" + s.url + "&use_path_style=true&disable_https=true&region=us-east-1"
}

// counts asks the server what it counted.
func (s *s3Server) counts() (counts, error) {
	var c counts
	resp, err := http.Get(s.url + countsPath)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// stop ends the server process.
func (s *s3Server) stop() {
	_ = s.stdin.Close()
	binrun.WaitOrKill(s.cmd, 10*time.Second)
}
