package vocab_test

import (
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// declared returns the value of every constant of package vocab whose name
// starts with prefix, by name, read from the package's own source: a name
// declared but left out of its list is found however it was added.
func declared(t *testing.T, prefix string) map[string]string {
	t.Helper()
	scopeOnce.Do(func() { scope, scopeErr = checkPackage() })
	if scopeErr != nil {
		t.Fatal(scopeErr)
	}
	out := map[string]string{}
	for _, name := range scope.Names() {
		c, ok := scope.Lookup(name).(*types.Const)
		if ok && strings.HasPrefix(name, prefix) {
			out[name] = constant.StringVal(c.Val())
		}
	}
	if len(out) == 0 {
		t.Fatalf("no constant named %s… in package vocab", prefix)
	}
	return out
}

var (
	scopeOnce sync.Once
	scope     *types.Scope
	scopeErr  error
)

// checkPackage type-checks package vocab's non-test files.
func checkPackage() (*types.Scope, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(".", e.Name()), nil, 0)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check("vocab", fset, files, nil)
	if err != nil {
		return nil, err
	}
	return pkg.Scope(), nil
}

// TestListsAreComplete fails when a name is declared without being added to
// the list that enumerates its kind, or listed twice: metrics label sets,
// counters, validation and the report are built from the lists.
func TestListsAreComplete(t *testing.T) {
	states := make([]string, len(vocab.States))
	for i, s := range vocab.States {
		states[i] = string(s)
	}
	for _, tc := range []struct {
		prefix string
		list   []string
	}{
		{"State", states},
		{"Event", vocab.EventStatuses},
		{"Refused", vocab.Refusals},
		{"After", vocab.AfterActions},
	} {
		checkList(t, tc.prefix, declared(t, tc.prefix), tc.list)
	}
}

// TestRejectionCodesAreComplete checks RejectionCodes against the local
// rejection codes: every code but those recorded after intake.
func TestRejectionCodesAreComplete(t *testing.T) {
	codes := declared(t, "Code")
	for _, later := range []string{"CodeNotInAnswer", "CodeUploadFailed", "CodeSubmitStuck", "CodeResubmitted",
		"CodeDocumentIDConflict", "CodeInvalidResult"} {
		if _, ok := codes[later]; !ok {
			t.Errorf("%s is not declared", later)
		}
		delete(codes, later)
	}
	checkList(t, "Code", codes, vocab.RejectionCodes)
}

func checkList(t *testing.T, prefix string, names map[string]string, list []string) {
	t.Helper()
	for name, v := range names {
		if !slices.Contains(list, v) {
			t.Errorf("%s (%q) is declared but not in the list of %s… names", name, v, prefix)
		}
	}
	if len(list) != len(names) {
		t.Errorf("the list of %s… names has %d entries, want %d (one per declared name): %q", prefix, len(list), len(names), list)
	}
}

// TestValuesAreDistinct guards against two names of a kind spelt alike.
func TestValuesAreDistinct(t *testing.T) {
	for _, list := range [][]string{vocab.EventStatuses, vocab.Refusals, vocab.AfterActions, vocab.RejectionCodes} {
		seen := map[string]bool{}
		for _, v := range list {
			if seen[v] {
				t.Errorf("%q is listed twice in %q", v, list)
			}
			seen[v] = true
		}
	}
}

// TestRefusalCounter keeps the counter names the report reads.
func TestRefusalCounter(t *testing.T) {
	if got := vocab.RefusalCounter(vocab.RefusedStaleTimestamp); got != "webhook_stale_timestamp" {
		t.Errorf("RefusalCounter(stale_timestamp) = %q", got)
	}
}
