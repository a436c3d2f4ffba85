package receiver_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// A body that sends most of max_body at once and then stalls held all of
// it until the body deadline: a few such connections kept the whole
// unverified budget spent for 5 s each. Past its first part a body must
// keep up HandlerConfig.MinBodyRate: a stalled one is cut off (408) and
// gives its budget back long before the body deadline.
func TestAStalledLargeBodyIsCutOffAtTheMinimumRateAndGivesItsBudgetBack(t *testing.T) {
	const maxBody = 64 << 10 // the budget's floor is twice this: two such bodies spend it
	st := openStore(t)
	var refusals refusalCounter
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}, MaxBody: maxBody, MaxUnverifiedBytes: 1,
		BodyTimeout: 5 * time.Minute, OnRefused: refusals.add}, st, patient)
	var stalled []net.Conn
	for i := range 2 {
		c, err := stalledUpload(hostOf(url), maxBody, maxBody-1)
		if err != nil {
			t.Fatalf("stalled upload %d: %v", i+1, err)
		}
		defer c.Close()
		stalled = append(stalled, c)
	}
	for i, c := range stalled {
		// The body deadline is minutes away: only the rate can end them.
		if got := readAnswer(t, c); !strings.HasPrefix(got, "HTTP/1.1 408 ") {
			t.Errorf("stalled upload %d answered %q, want 408", i+1, got)
		}
	}
	body := completedEvent("doc_afterstall")
	if status, _, err := postSigned(url, body, signed(secretA, body)); err != nil || status != http.StatusOK {
		t.Fatalf("a delivery after the stalled bodies were cut off: %d, %v; want 200", status, err)
	}
	if got, want := refusals.String(), fmt.Sprint(map[string]int{vocab.RefusedSlowBody: 2}); got != want {
		t.Errorf("refusals = %s, want %s", got, want)
	}
}

// A body holds budget for what it has sent, plus the part being read,
// which starts small: a sender of one byte no longer holds a whole 16 KiB
// chunk for the body deadline, so slow senders together hold a small
// share of the budget however many connections they open.
func TestSlowSendersHoldOnlyASmallFirstPartOfTheBudget(t *testing.T) {
	const maxBody, slow = 16 << 10, 24 // 24 slow bodies: 12 times the budget in whole chunks
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}, MaxBody: maxBody, MaxUnverifiedBytes: 1,
		BodyTimeout: 5 * time.Minute}, st, patient)
	for i := range slow {
		c, err := slowUpload(hostOf(url), maxBody)
		if err != nil {
			t.Fatalf("slow upload %d of %d: %v", i+1, slow, err)
		}
		defer c.Close()
	}
	body := completedEvent("doc_besideslow")
	if status, _, err := postSigned(url, body, signed(secretA, body)); err != nil || status != http.StatusOK {
		t.Fatalf("a delivery beside %d slow bodies: %d, %v; want 200", slow, status, err)
	}
}

// A delivery of exactly max_body (1 MB by default), sent at loopback speed,
// is read, verified and stored as before the rate was enforced.
func TestADeliveryOfMaxBodyIsAcceptedWhole(t *testing.T) {
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
	head := `{"event":"document.completed","document_id":"doc_maxbody","timestamp":"2026-05-19T14:00:00Z","data":{"note":"`
	tail := `"}}`
	body := []byte(head + strings.Repeat("x", 1_000_000-len(head)-len(tail)) + tail)
	if status, _, err := postSigned(url, body, signed(secretA, body)); err != nil || status != http.StatusOK {
		t.Fatalf("a signed delivery of %d bytes: %d, %v; want 200", len(body), status, err)
	}
	if n := totalEvents(t, st); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}
