package apiclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// readResponse consumes a response that will not be retried by status: an
// expected success is read (capped) and decoded into r.out; anything else
// becomes an *APIError. A read error is returned as is and retried.
func (c *Client) readResponse(r *request, resp *http.Response) error {
	if !r.ok(resp.StatusCode) {
		return c.readAPIError(r.endpoint, resp)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("read response: %w", err)
	}
	if len(data) > maxResponseBytes {
		return &decodeError{fmt.Errorf("HTTP %d body exceeds %d bytes", resp.StatusCode, maxResponseBytes)}
	}
	if err := decodeJSON(data, r.out); err != nil {
		return &decodeError{fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)}
	}
	if err := r.validate(); err != nil {
		return &decodeError{fmt.Errorf("HTTP %d: %w", resp.StatusCode, err)}
	}
	if br, ok := r.out.(*docuparse.BatchResponse); ok {
		br.Replayed = resp.StatusCode == http.StatusOK
	}
	return nil
}

// decodeJSON decodes exactly one JSON object into out; unknown fields are
// allowed (the API may add some), anything else (not an object, trailing
// data, wrong types) is an error.
func decodeJSON(data []byte, out any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(out); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}
