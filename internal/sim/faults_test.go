package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// postFaults posts body to /_sim/faults and returns the status and the
// knobs in force afterwards.
func (b *bundle) postFaults(t *testing.T, body string) (int, Faults) {
	t.Helper()
	r := mustCall(t, http.MethodPost, b.srv.URL+"/_sim/faults", strings.NewReader(body), "application/json")
	var f Faults
	if r.status == http.StatusOK {
		r.decode(t, &f)
	}
	return r.status, f
}

// TestFaultsChangeAtRunTimeAndKeepTheRecord: one simulator, faults turned
// on and off by POST /_sim/faults; the record of created documents survives.
func TestFaultsChangeAtRunTimeAndKeepTheRecord(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Rate429: 0.25, RetryAfterSeconds: 3})
	if got := b.sim.Faults(); got.Rate429 != 0.25 || got.RetryAfterSeconds != 3 {
		t.Fatalf("faults from Config: %+v", got)
	}
	if r := b.submit(t, "extract", form{files: samples.Demo()[:1]}, "Idempotency-Key", "a"); r.status != http.StatusAccepted && r.status != http.StatusTooManyRequests {
		t.Fatalf("status %d", r.status)
	}

	status, f := b.postFaults(t, `{"rate_429": 1, "submit_delay": "1ms"}`)
	if status != 200 || f.Rate429 != 1 || f.RetryAfterSeconds != 3 || time.Duration(f.SubmitDelay) != time.Millisecond {
		t.Fatalf("after POST: %d %+v (fields not named must stay)", status, f)
	}
	r := b.submit(t, "extract", form{files: samples.Demo()[1:2]})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "3" {
		t.Fatalf("with rate_429=1: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}

	if status, _ := b.postFaults(t, `{"down": true, "rate_429": 0}`); status != 200 {
		t.Fatalf("down: %d", status)
	}
	body, ct := form{files: samples.Demo()[1:2]}.encode()
	if _, err := call(t, http.MethodPost, b.api+"/extract", strings.NewReader(string(body)), ct); err == nil {
		t.Fatal("a request to a down API got an answer")
	}
	st := b.sim.Stats()
	if st.RefusedWhileDown != 1 || st.DocumentsCreated > 1 {
		t.Fatalf("stats while down: %+v", st)
	}
	resp, err := http.Get(b.srv.URL + "/_sim/stats")
	if err != nil {
		t.Fatalf("stats while down: %v", err)
	}
	resp.Body.Close()

	if status, _ := b.postFaults(t, `{"down": false}`); status != 200 {
		t.Fatalf("up: %d", status)
	}
	if r := b.submit(t, "extract", form{files: samples.Demo()[1:2]}); r.status != http.StatusAccepted {
		t.Fatalf("back up: %d %s", r.status, r.body)
	}
}

func TestFaultsEndpointRefusesBadValuesAndChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{Rate503: 0.5})
	for _, body := range []string{`{"rate_503": 2}`, `{"submit_delay": "-1s"}`, `{"nope": 1}`, `{"webhook_reorder": "soon"}`, `[`} {
		if status, _ := b.postFaults(t, body); status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", body, status)
		}
	}
	r := mustCall(t, http.MethodGet, b.srv.URL+"/_sim/faults", nil, "")
	var f Faults
	r.decode(t, &f)
	if f.Rate503 != 0.5 || f.SubmitDelay != 0 {
		t.Errorf("faults changed by refused requests: %+v", f)
	}
	if err := b.sim.SetFaults(Faults{Rate429: -1}); err == nil {
		t.Error("SetFaults accepted a negative rate")
	}
}

// TestResponseDelayLetsWebhooksArriveFirst: with the answer held, the
// document's webhook is delivered before the client has its id.
func TestResponseDelayLetsWebhooksArriveFirst(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := setup(t, Config{WebhookURL: rc.srv.URL})
	if err := b.sim.SetFaults(Faults{ResponseDelay: Duration(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	body, ct := form{files: samples.Demo()[:1]}.encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.api+"/extract", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", ct)
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	testwait.For(t, "the webhook", func() bool { return len(rc.got()) > 0 })
	select {
	case err := <-done:
		t.Fatalf("answered (%v) before the webhook", err)
	default:
	}
	cancel() // the held answer ends with the client
	<-done
	var ev docuparse.Event
	if err := json.Unmarshal(rc.got()[0].body, &ev); err != nil || ev.Event != docuparse.EventDocumentCompleted {
		t.Fatalf("event %+v, %v", ev, err)
	}
	if err := b.sim.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	if st := b.sim.Stats(); st.ResponsesDelayed != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A slow uplink turned on at run time paces the uploads that begin after
// it, and turning it off lets the next ones through unpaced.
func TestUploadRateChangesAtRunTime(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	body := func() io.ReadCloser { return io.NopCloser(strings.NewReader("x")) }
	if _, paced := b.sim.uploadBody(t.Context(), body()).(*slowBody); paced {
		t.Fatal("an upload is paced with no fault set")
	}
	if status, f := b.postFaults(t, `{"upload_rate": 1234}`); status != 200 || f.UploadRate != 1234 {
		t.Fatalf("after POST: %d %+v", status, f)
	}
	if sb, ok := b.sim.uploadBody(t.Context(), body()).(*slowBody); !ok || sb.rate != 1234 {
		t.Fatalf("upload body %T, want one paced at 1234 bytes/s", sb)
	}
	if status, _ := b.postFaults(t, `{"upload_rate": 0}`); status != 200 {
		t.Fatalf("POST status %d", status)
	}
	if _, paced := b.sim.uploadBody(t.Context(), body()).(*slowBody); paced {
		t.Fatal("an upload is still paced after the fault was lifted")
	}
}
