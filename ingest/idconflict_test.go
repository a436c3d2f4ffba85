package ingest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// sameDocumentID makes the rig's API answer every upload with one
// document_id, whatever file it got: a broken or hostile API.
func (r *subRig) sameDocumentID(id string) {
	r.interceptWith(func(w http.ResponseWriter, req *http.Request, next http.Handler) {
		rec := throughSim(next, req)
		var v map[string]any
		if rec.Code/100 != 2 || json.Unmarshal(rec.Body.Bytes(), &v) != nil {
			relay(w, rec)
			return
		}
		if docs, ok := v["documents"].([]any); ok {
			for _, d := range docs {
				d.(map[string]any)["document_id"] = id
			}
		} else {
			v["document_id"] = id
		}
		body, _ := json.Marshal(v)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}

// The API answering one document_id for two files cannot be recorded for
// both (the id names one document). The second file is not retried in a
// loop on the store's UNIQUE error: it ends failed with
// DOCUMENT_ID_CONFLICT, naming the id and the file that holds it, logged
// once at ERROR, and `retry` resubmits it. Each file is accounted for
// exactly once.
func TestAnAPIAnsweringOneDocumentIDForTwoFilesRecordsOneConflict(t *testing.T) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			r := newSubRig(t, mode.batch, subRigOpts{})
			r.sameDocumentID("doc_same")
			ids := r.queue(t, "a.pdf", "b.pdf")
			s := r.submitter(t, r.client(t, subAPIKey, 2), nil)
			r.start(t, s)
			settled := func() bool {
				for _, id := range ids {
					if st := r.st.get(t, id).State; st != store.StateSubmitted && st != store.StateFailed {
						return false
					}
				}
				return true
			}
			// The submitter logs the conflict after the store committed it:
			// wait for the line too.
			testwait.OnSignal(t, r.wake, "both files recorded and the conflict logged, or the recording failing again and again", func() bool {
				return settled() && r.logs.Count(vocab.CodeDocumentIDConflict) > 0 || r.logs.Count("cannot record") >= 2
			})
			if n := r.logs.Count("cannot record"); n > 0 {
				t.Fatalf("recording the answer failed %d times (a loop):\n%s", n, grepLines(r.logs.String(), "cannot record"))
			}
			var holder, loser store.Document
			for _, id := range ids {
				switch d := r.st.get(t, id); d.State {
				case store.StateSubmitted:
					holder = d
				case store.StateFailed:
					loser = d
				}
			}
			if holder.DocumentID != "doc_same" || loser.ID == 0 || loser.ErrorCode != vocab.CodeDocumentIDConflict ||
				!strings.Contains(loser.ErrorMessage, "doc_same") || !strings.Contains(loser.ErrorMessage, holder.FileName) {
				t.Fatalf("documents: %+v and %+v; want one submitted as doc_same, the other failed %s naming it",
					r.st.get(t, ids[0]), r.st.get(t, ids[1]), vocab.CodeDocumentIDConflict)
			}
			if n := r.logs.Count("level=ERROR"); n != 1 || r.logs.Count(vocab.CodeDocumentIDConflict) != 1 {
				t.Errorf("want one ERROR line naming %s, got:\n%s", vocab.CodeDocumentIDConflict, r.logs.String())
			}
			if docs := r.st.all(t); len(docs) != 2 {
				t.Errorf("%d documents, want each file once", len(docs))
			}
			// The operator resubmits it once the API behaves.
			r.intercept.Store(nil)
			newID, err := r.st.Retry(t.Context(), loser.ID, store.RetryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s.Notify()
			r.waitIn(t, store.StateSubmitted, newID)
			if d := r.st.get(t, newID); d.DocumentID == "" || d.DocumentID == "doc_same" || d.Path != loser.Path {
				t.Errorf("the retry: %+v", d)
			}
		})
	}
}
