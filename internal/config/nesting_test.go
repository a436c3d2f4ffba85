package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nestingFolders makes real folders and symbolic links under a temporary
// root and returns the root:
//
//	in/sub, in/results, in-2, other, state, out
//	alias -> in, sublink -> in/sub, outalias -> out, outlink -> in/results
func nestingFolders(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"in/sub", "in/results", "in-2", "other", "state", "out"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"alias": "in", "sublink": "in/sub", "outalias": "out", "outlink": "in/results"} {
		if err := os.Symlink(filepath.Join(root, target), filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// folder is one [[source]] of a nesting case: a path below the root and
// whether it is recursive.
type folder struct {
	path      string
	recursive bool
	more      string // more keys of the source; $ROOT is the root
}

func TestNoFileIsListedByTwoSources(t *testing.T) {
	tests := []struct {
		name    string
		output  string // below the root; "" = "out"
		sources []folder
		key     string // "" = the configuration loads
		msg     []string
	}{
		{name: "a source inside a recursive source is refused, naming both",
			sources: []folder{{"in", true, ""}, {"in/sub", false, ""}},
			key:     "source[1].path", msg: []string{"is inside source[0].path", "recursive"}},
		{name: "a recursive source around an earlier source is refused, naming both",
			sources: []folder{{"in/sub", false, ""}, {"in", true, ""}},
			key:     "source[1].path", msg: []string{"source[0].path", "recursive"}},
		{name: "a source in a subfolder of a non-recursive source is accepted",
			sources: []folder{{"in", false, ""}, {"in/sub", true, ""}}},
		{name: "the same folder through a symbolic link is refused, recursive or not",
			sources: []folder{{"in", false, ""}, {"alias", false, ""}},
			key:     "source[1].path", msg: []string{"is the same folder as source[0].path", "alias", "resolved"}},
		{name: "the same path twice is refused",
			sources: []folder{{"in", false, ""}, {"in/", false, ""}},
			key:     "source[1].path", msg: []string{"is the same folder as source[0].path"}},
		{name: "a folder inside a recursive source through a symbolic link is refused",
			sources: []folder{{"in", true, ""}, {"sublink", false, ""}},
			key:     "source[1].path", msg: []string{"is inside source[0].path"}},
		{name: "a folder not made yet below a symbolic link to a recursive source is refused",
			sources: []folder{{"in", true, ""}, {"alias/later", false, ""}},
			key:     "source[1].path", msg: []string{"is inside source[0].path"}},
		{name: "sibling folders are accepted, even when one name extends the other",
			sources: []folder{{"in", true, ""}, {"in-2", true, ""}, {"other", true, ""}}},
		{name: "a move_to reached through a symbolic link into its own recursive folder is refused",
			sources: []folder{{"in", true, "after = \"move\"\nmove_to = \"$ROOT/alias/done\""}},
			key:     "source[0].move_to", msg: []string{"is inside the watched folder"}},
		{name: "a move_to reached through a symbolic link into another recursive source is refused",
			sources: []folder{{"in", true, ""}, {"other", false, "after = \"move\"\nmove_to = \"$ROOT/sublink/done\""}},
			key:     "source[1].move_to", msg: []string{"is inside source[0].path"}},
		{name: "a source inside output_dir through a symbolic link is refused",
			sources: []folder{{"outalias/csv", false, ""}},
			key:     "source[0].path", msg: []string{"is inside output_dir"}},
		{name: "a source that is output_dir through a symbolic link is refused",
			sources: []folder{{"outalias", false, ""}},
			key:     "output_dir", msg: []string{"is inside source[0].path"}},
		{name: "an output_dir that is a symbolic link into a recursive source is refused",
			output: "outlink", sources: []folder{{"in", true, ""}},
			key: "output_dir", msg: []string{"is inside source[0].path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := nestingFolders(t)
			output := tt.output
			if output == "" {
				output = "out"
			}
			var b strings.Builder
			fmt.Fprintf(&b, "state_dir = %q\noutput_dir = %q\n[api]\nbase_url = \"https://api.example.com/api/v1\"\n",
				filepath.Join(root, "state"), filepath.Join(root, output))
			for i, f := range tt.sources {
				p := filepath.Join(root, f.path)
				if strings.HasSuffix(f.path, "/") {
					p += "/"
				}
				fmt.Fprintf(&b, "[[source]]\nname = \"s%d\"\npath = %q\nrecursive = %v\n%s\n", i, p, f.recursive,
					strings.ReplaceAll(f.more, "$ROOT", root))
			}
			_, err := Load(writeFile(t, root, "config.toml", b.String()), withSecrets())
			if tt.key == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			fes := fieldErrors(t, err)
			if len(fes) != 1 || fes[0].Key != tt.key {
				t.Fatalf("got %v\nwant one problem at %s", err, tt.key)
			}
			for _, m := range tt.msg {
				if !strings.Contains(fes[0].Msg, m) {
					t.Errorf("%s: %q does not say %q", fes[0].Key, fes[0].Msg, m)
				}
			}
		})
	}
}
