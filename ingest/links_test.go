package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// hardlinkedCode is the code of a file refused for its hard links (a
// literal, so that the test compiles and fails on code without it).
const hardlinkedCode = "HARDLINKED_FILE"

// A group member with fs.protected_hardlinks=0 can link any file of the
// service's they can reach (its configuration, its state) into the inbox
// as x.pdf. Intake refuses a file with more than one link, checked on the
// descriptor it would read: never read, hashed or queued.
func TestIntakeRefusesAFileWithMoreThanOneLink(t *testing.T) {
	r := newIntakeRig(t, nil, 0, nil)
	secret := filepath.Join(filepath.Dir(r.dir), "api_key")
	if err := os.WriteFile(secret, []byte("%PDF-1.4 dex_secret_key"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(r.dir, "x.pdf")
	if err := os.Link(secret, link); err != nil {
		t.Fatal(err)
	}
	r.take(t, statCandidate(t, "inbox", link))
	docs := r.st.all(t)
	if len(docs) != 1 {
		t.Fatalf("recorded %d documents, want 1", len(docs))
	}
	d := docs[0]
	if d.State != store.StateRejected || d.ErrorCode != hardlinkedCode || d.SHA256 != "" {
		t.Fatalf("recorded %s %q (sha256 %q), want rejected %s and never hashed", d.State, d.ErrorCode, d.SHA256, hardlinkedCode)
	}
	for _, want := range []string{"hard link", "copy"} {
		if !strings.Contains(d.ErrorMessage, want) {
			t.Errorf("message %q does not say %q", d.ErrorMessage, want)
		}
	}
	if r.queued() != 0 {
		t.Errorf("the linked file was queued")
	}
}

// A file linked elsewhere after it was queued is refused at upload too:
// the upload opens it anew and checks its links on that descriptor.
func TestSubmitterRefusesAFileLinkedAfterItWasQueued(t *testing.T) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := newSubRig(t, mode.batch, subRigOpts{})
			ids := r.queue(t, "a.pdf", "b.pdf")
			if err := os.Link(r.st.get(t, ids[1]).Path, filepath.Join(filepath.Dir(r.dir), "b-link.pdf")); err != nil {
				t.Fatal(err)
			}
			cl := r.client(t, subAPIKey, 2)
			r.start(t, r.submitter(t, cl, nil))
			r.waitIn(t, store.StateSubmitted, ids[0])
			r.waitIn(t, store.StateRejected, ids[1])
			if d := r.st.get(t, ids[1]); d.ErrorCode != hardlinkedCode || !strings.Contains(d.ErrorMessage, "hard link") {
				t.Errorf("linked file: %s %q %q, want rejected %s", d.State, d.ErrorCode, d.ErrorMessage, hardlinkedCode)
			}
			r.checkCreatedOnce(t, "a.pdf")
		})
	}
}
