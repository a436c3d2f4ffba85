package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// TestHeldWebhooksAreServedNotDelivered: with HoldWebhooks the simulator
// delivers nothing, even with a webhook URL, and GET /_sim/held-events
// serves each event's body, one a line, byte for byte what a delivery
// would have carried: a load generator can sign and post them itself.
func TestHeldWebhooksAreServedNotDelivered(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := webhookSetup(t, Config{HoldWebhooks: true}, rc)
	var br docuparse.BatchResponse
	b.submit(t, "batches", form{files: samples.Demo()}).decode(t, &br)

	var lines [][]byte
	testwait.For(t, "9 held events", func() bool {
		lines = heldEvents(t, b.srv.URL)
		return len(lines) == 9
	})
	docs := map[string]bool{}
	for _, d := range br.Documents {
		docs[d.DocumentID] = true
	}
	for _, line := range lines {
		var ev docuparse.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("held event %q: %v", line, err)
		}
		if again, _ := json.Marshal(ev); !bytes.Equal(again, line) {
			t.Errorf("held event %s is not the encoded event %s", line, again)
		}
		if ev.Event != docuparse.EventBatchCompleted && !docs[ev.DocumentID] {
			t.Errorf("held event for %q, not a document of the batch", ev.DocumentID)
		}
		delete(docs, ev.DocumentID)
	}
	if len(docs) != 0 {
		t.Errorf("no held event for %v", docs)
	}
	if n := len(rc.got()); n != 0 {
		t.Errorf("%d deliveries made while held", n)
	}
	if st := b.sim.Stats(); st.WebhooksAttempted != 0 || st.WebhooksPending != 0 {
		t.Errorf("stats %+v: want nothing attempted or pending", st)
	}
}

// heldEvents reads GET /_sim/held-events: one event body a line.
func heldEvents(t *testing.T, base string) [][]byte {
	t.Helper()
	resp, err := http.Get(base + "/_sim/held-events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_sim/held-events: %s", resp.Status)
	}
	var out [][]byte
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
