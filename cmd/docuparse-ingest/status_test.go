package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/sourcestate"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// A document the exporter holds (its output path is unsafe) is named in
// status with the reason, in text and in JSON.
func TestStatusShowsDocumentsHeldFromExport(t *testing.T) {
	f := newRetryFixture(t)
	id := f.add("held.pdf", "rejected", docuparse.CodeUnsupportedMedia)
	f.add("fine.pdf", "rejected", docuparse.CodeUnsupportedMedia)
	const reason = "directory out/results/2026-11-28 is a symbolic link"
	if _, err := f.st.HoldExport(t.Context(), []store.ExportHold{{ID: id, Reason: reason}}, time.Minute, time.Hour); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, nil, "", "status", "--config", f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "held from export: 1") || !strings.Contains(out, "held.pdf: "+reason) || strings.Contains(out, "fine.pdf") {
		t.Errorf("status does not show the held document and why:\n%s", out)
	}
	js, _, err := run(t, nil, "", "status", "--json", "--config", f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if len(st.ExportHeld) != 1 || st.ExportHeld[0].ID != id || st.ExportHeld[0].Reason != reason || st.ExportHeld[0].Attempts != 1 {
		t.Errorf("status --json export_held = %+v", st.ExportHeld)
	}
}

func TestStatusShowsFilesStuckAtSubmissionAndWhy(t *testing.T) {
	f := newRetryFixture(t)
	id := f.add("unlisted.pdf", "queued", "")
	b, err := f.st.CreateBatch(t.Context(), store.ModeBatch, []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	const reason = "batch batch_x: the API's answer lists 0 of the 1 files sent"
	if err := f.st.StopSubmitting(t.Context(), b.ID, []int64{id}, reason); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, nil, "", "status", "--config", f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "stuck at submission: 1") || !strings.Contains(out, "unlisted.pdf") || !strings.Contains(out, reason) ||
		!strings.Contains(out, "retry --stuck") {
		t.Errorf("status does not show the stuck file, why, and what to do:\n%s", out)
	}
	js, _, err := run(t, nil, "", "status", "--json", "--config", f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if len(st.SubmitStuck) != 1 || st.SubmitStuck[0].ID != id || st.SubmitStuck[0].Reason != reason || st.SubmitStuck[0].Batch != b.ID {
		t.Errorf("status --json submit_stuck = %+v", st.SubmitStuck)
	}
}

// Each bucket source's listings, as the daemon records them in state_dir,
// are in status: the last successful listing and its objects, the errors,
// and for a failing source since when and why (control characters in the
// error made visible), in text and in JSON.
func TestStatusShowsEachBucketSourcesListings(t *testing.T) {
	f := newRetryFixture(t)
	rec := sourcestate.New(sourcestate.Options{Dir: filepath.Dir(f.st.Path())})
	ok := time.Now().Add(-time.Minute)
	rec.Listed("scans", "s3://bkt/in/", ok, 1234, nil)
	rec.Listed("partners", "gs://other/drop/", ok, 7, nil)
	rec.Listed("partners", "gs://other/drop/", ok.Add(30*time.Second), 0, errors.New("list gs://other/drop/: access denied\x1b[2J"))
	out, _, err := run(t, nil, "", "status", "--config", f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bucket sources:", "scans s3://bkt/in/: last listed ", "ago), 1234 objects; listing errors: 0",
		"partners gs://other/drop/: last listed ", "ago), 7 objects; listing errors: 1", "FAILING since ", "access denied\\x1b[2J"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("status prints a raw escape:\n%q", out)
	}
	js, _, err := run(t, nil, "", "status", "--json", "--config", f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	p, s := st.Sources["partners"].Listing, st.Sources["scans"].Listing
	if s == nil || s.Objects != 1234 || s.Error != "" || s.LastSuccess == nil || s.Bucket != "s3://bkt/in/" {
		t.Errorf("status --json scans listing = %+v", s)
	}
	if p == nil || p.Objects != 7 || p.Errors != 1 || !strings.Contains(p.Error, "access denied") || p.FailingSince == nil {
		t.Errorf("status --json partners listing = %+v", p)
	}
}

// Webhook events not yet applied, and those an operator may need to look
// at (orphaned, dead), are counted in status with the command that lists
// them; an applied event is not mentioned.
func TestStatusCountsWebhookEventsToLookAt(t *testing.T) {
	f := newRetryFixture(t)
	ctx := t.Context()
	journal := func(key string, e store.IncomingEvent) {
		t.Helper()
		e.DedupeKey, e.DeliveryID = key, "dlv-"+key
		if e.Body == nil {
			e.Body = []byte(`{"event":"document.completed","document_id":"` + e.DocumentID + `"}`)
		}
		if _, err := f.st.JournalEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := run(t, nil, "", "status", "--config", f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "webhook events") {
		t.Errorf("status of an empty journal mentions webhook events:\n%s", out)
	}
	journal("ghost", store.IncomingEvent{Type: docuparse.EventDocumentCompleted, DocumentID: "doc_ghost"})
	journal("broken", store.IncomingEvent{Type: "document.exploded", Body: []byte("{"), Dead: true})
	if _, err := receiver.ApplyPending(ctx, f.st); err != nil {
		t.Fatal(err)
	}
	journal("later", store.IncomingEvent{Type: docuparse.EventDocumentCompleted, DocumentID: "doc_later"})
	out, _, err = run(t, nil, "", "status", "--config", f.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"webhook events not yet applied: 1\n",
		"webhook events orphaned (for documents or batches this daemon has not recorded): 1 (docuparse-ingest webhook list --status orphan)\n",
		"webhook events dead (unknown type or unreadable body): 1 (docuparse-ingest webhook list --status dead)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "conflicting") {
		t.Errorf("status mentions conflicting events, there are none:\n%s", out)
	}
}
