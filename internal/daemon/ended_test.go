package daemon_test

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// The daemon's transition hook feeds docuparse_documents_ended_total: after
// the demo's eight files (one fails extraction) and a copy of one, /metrics
// counts 7 completed, 1 failed and 1 duplicate for the source, though all
// of them are exported by then.
func TestMetricsCountDocumentsEndedByOutcomeAndSource(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sim.Config{}, "")
	h.cfg.Admin.Listen = "127.0.0.1:0"
	d := h.start(t)
	files := e2e.DropAll(t, h.inbox, h.staging, samples.Demo())
	h.tr.WaitFor(t, "the demo files exported", 60*time.Second, h.tr.AllEnded(files))
	copyPath := filepath.Join(h.inbox, "copy of "+files[0].Name)
	if err := os.WriteFile(copyPath, files[0].Content, 0o644); err != nil {
		t.Fatal(err)
	}
	h.tr.WaitFor(t, "the copy exported", 30*time.Second, func() bool { return h.tr.Ended(copyPath) })

	resp, err := http.Get("http://" + d.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		got[sc.Text()] = true
	}
	for _, line := range []string{
		`docuparse_documents_ended_total{outcome="completed",source="inbox"} 7`,
		`docuparse_documents_ended_total{outcome="failed",source="inbox"} 1`,
		`docuparse_documents_ended_total{outcome="duplicate",source="inbox"} 1`,
		`docuparse_documents_ended_total{outcome="rejected",source="inbox"} 0`,
		`docuparse_documents_ended_total{outcome="vanished",source="inbox"} 0`,
	} {
		if !got[line] {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if t.Failed() {
		for l := range got {
			if strings.HasPrefix(l, "docuparse_document") {
				t.Log(l)
			}
		}
	}
}
