package output

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"
)

// msTime is the one timestamp form of the outputs: RFC 3339, UTC,
// milliseconds.
var msTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// TestTimestampsAreUTCMilliseconds checks every timestamp of a CSV row and
// a JSON result has the same fixed precision, whatever the time's zone and
// fraction (none, nanoseconds) and however the API wrote its own.
func TestTimestampsAreUTCMilliseconds(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	d := completedDoc()
	d.SubmittedAt = time.Date(2026, 12, 3, 14, 25, 4, 0, berlin)
	d.CompletedAt = time.Date(2026, 12, 3, 14, 25, 4, 461_987_654, berlin)
	d.APITimestamp = "2026-12-03T14:25:04.4619+01:00"

	row, err := DocumentRecord(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range []int{7, 8} { // submitted_at, completed_at
		if !msTime.MatchString(row[col]) {
			t.Errorf("CSV %s = %q, want RFC 3339 UTC with milliseconds", DocumentsHeader[col], row[col])
		}
	}
	if row[7] != "2026-12-03T13:25:04.000Z" || row[8] != "2026-12-03T13:25:04.461Z" {
		t.Errorf("CSV times = %q, %q", row[7], row[8])
	}

	js, err := MarshalJSON(d)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"submitted_at":  "2026-12-03T13:25:04.000Z",
		"completed_at":  "2026-12-03T13:25:04.461Z",
		"api_timestamp": "2026-12-03T13:25:04.461Z",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("JSON %s = %v, want %s", k, got[k], v)
		}
	}
}

// TestAPITimestampUnreadableKeptAsSent: a timestamp the API wrote in a
// form that is not RFC 3339 is kept as sent, not dropped or invented.
func TestAPITimestampUnreadableKeptAsSent(t *testing.T) {
	d := completedDoc()
	d.APITimestamp = "yesterday"
	js, err := MarshalJSON(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"api_timestamp": "yesterday"`)) {
		t.Errorf("api_timestamp not kept as sent:\n%s", js)
	}
}

// TestJSONHasSourceName: the result names the [[source]] the file came
// from, beside its full path.
func TestJSONHasSourceName(t *testing.T) {
	js, err := MarshalJSON(failedDoc())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	if got["source_name"] != "inbox" || got["source"] != "s3://acme-ap/inbox/scan-0002.pdf" {
		t.Errorf("source_name = %v, source = %v", got["source_name"], got["source"])
	}
}
