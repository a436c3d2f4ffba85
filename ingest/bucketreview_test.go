package ingest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// A file with a second hard link in a file:// bucket is refused as in a
// folder (a rejected row, CodeHardlinked), not dropped as "changed": the
// bucket source hands an object over once per version, so a dropped one
// would never be taken, nor accounted for.
func TestFileBucketHardLinkedObjectIsRejectedNotLost(t *testing.T) {
	s := bucketemu.File(t)
	r := newBucketRig(t, s, BucketConfig{Recursive: true})
	r.put(t, "in/ok.pdf", "%PDF linked")
	dir := filepath.Join(r.b.Bucket, "in")
	if err := os.Link(filepath.Join(dir, "ok.pdf"), filepath.Join(dir, "hard.pdf")); err != nil {
		t.Fatal(err)
	}
	r.takeAll(t, r.list(t))
	r.takeAll(t, r.list(t))
	docs := r.st.all(t)
	if len(docs) != 2 {
		t.Fatalf("recorded %d documents for 2 hard-linked objects: %+v", len(docs), docs)
	}
	for _, d := range docs {
		if d.State != store.StateRejected || d.ErrorCode != CodeHardlinked {
			t.Errorf("%s: %s %q; want rejected %s", d.Path, d.State, d.ErrorCode, CodeHardlinked)
		}
	}
}
