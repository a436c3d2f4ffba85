package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// memFile is a file read whole into memory.
type memFile struct {
	name    string
	content []byte
}

// readTree reads every regular file under dir into memory.
func readTree(dir string) ([]memFile, error) {
	var files []memFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, memFile{name: d.Name(), content: b})
		return nil
	})
	return files, err
}

// upload sends files to the API at base in batches of naiveBatch, conc at
// a time, and hands each answer to done; the first error stops it.
func upload(ctx context.Context, base string, files []memFile, conc int, done func([]string, []docuparse.BatchDocument)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy, tr.MaxIdleConnsPerHost = nil, conc
	client := &http.Client{Transport: tr}
	batches := make(chan []memFile)
	errs := make(chan error, conc)
	for range conc {
		go func() {
			var err error
			for b := range batches {
				if err == nil {
					err = postBatch(ctx, client, base, b, done)
					if err != nil {
						cancel()
					}
				}
			}
			errs <- err
		}()
	}
	for i := 0; i < len(files); i += naiveBatch {
		select {
		case batches <- files[i:min(i+naiveBatch, len(files))]:
		case <-ctx.Done():
		}
	}
	close(batches)
	var first error
	for range conc {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// postBatch sends one POST /batches built in memory.
func postBatch(ctx context.Context, client *http.Client, base string, files []memFile, done func([]string, []docuparse.BatchDocument)) error {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.name
		w, err := mw.CreateFormFile("file", apiclient.PartFilename(f.name))
		if err != nil {
			return err
		}
		if _, err := w.Write(f.content); err != nil {
			return err
		}
	}
	if err := mw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/batches", &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /batches: %s: %.200s", resp.Status, b)
	}
	var br docuparse.BatchResponse
	if err := json.Unmarshal(b, &br); err != nil {
		return fmt.Errorf("POST /batches: %w", err)
	}
	if len(br.Documents) != len(files) {
		return fmt.Errorf("POST /batches: %w: %d of %d", errShortAnswer, len(br.Documents), len(files))
	}
	done(names, br.Documents)
	return nil
}
