package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestMarshalJSON(t *testing.T) {
	d := completedDoc()
	b, err := MarshalJSON(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("}\n")) || bytes.HasSuffix(b, []byte("\n\n")) {
		t.Errorf("output does not end in exactly one newline: %q", b[len(b)-5:])
	}
	again, err := MarshalJSON(d)
	if err != nil || !bytes.Equal(b, again) {
		t.Errorf("output is not stable: %v", err)
	}

	var got struct {
		DocumentID string          `json:"document_id"`
		Data       json.RawMessage `json:"data"`
		Error      *struct{}       `json:"error"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if got.DocumentID != "doc_clx7abc123" || got.Error != nil {
		t.Errorf("document_id = %q, error = %v", got.DocumentID, got.Error)
	}
	// The data object is the API's, only re-indented: same bytes once compacted.
	var wantData, gotData bytes.Buffer
	if err := json.Compact(&wantData, []byte(articleData)); err != nil {
		t.Fatal(err)
	}
	if err := json.Compact(&gotData, got.Data); err != nil {
		t.Fatal(err)
	}
	if gotData.String() != wantData.String() {
		t.Errorf("data changed:\n got %s\nwant %s", gotData.String(), wantData.String())
	}
	for _, s := range []string{`"quantity": 1.50`, `"confidence": 0.97`, `"total": "3850.00"`} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("output lacks %s as written by the API", s)
		}
	}
}

func TestMarshalJSONShapes(t *testing.T) {
	b, err := MarshalJSON(rejectedDoc())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"document_id", "local_ref", "status", "source", "file_name", "sha256", "size_bytes",
		"batch_id", "submitted_at", "completed_at", "result_via", "api_timestamp", "duplicate_of", "retry_of", "error", "data"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	if m["data"] != nil || m["submitted_at"] != nil || m["retry_of"] != nil {
		t.Errorf("data = %v, submitted_at = %v; want null", m["data"], m["submitted_at"])
	}
	if e, _ := m["error"].(map[string]any); e["code"] != "FILE_TOO_LARGE" {
		t.Errorf("error = %v", m["error"])
	}

	u, err := MarshalJSON(unicodeDoc())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(u), "<Bäckerei> & Söhne 🍰") {
		t.Errorf("HTML characters or unicode were escaped:\n%s", u)
	}
}

func TestMarshalJSONBadData(t *testing.T) {
	d := completedDoc()
	d.Data = json.RawMessage(`{"total": "1",`)
	if _, err := MarshalJSON(d); !errors.Is(err, ErrBadData) {
		t.Fatalf("err = %v, want ErrBadData", err)
	}
}

func TestMarshalJSONDuplicateHasNoData(t *testing.T) {
	b, err := MarshalJSON(duplicateDoc())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["data"] != nil {
		t.Errorf("duplicate's data = %v, want null so totals are never counted twice", m["data"])
	}
	if m["document_id"] != "doc_clx7abc123" || m["duplicate_of"] == "" {
		t.Errorf("duplicate does not lead to its original: %v, %v", m["document_id"], m["duplicate_of"])
	}
}
