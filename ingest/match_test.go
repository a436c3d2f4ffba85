package ingest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFolderMatcher(t *testing.T) {
	tests := []struct {
		name    string
		include []string
		exclude []string
		file    string
		want    bool
	}{
		{"an included extension matches", []string{"*.pdf"}, nil, "invoice.pdf", true},
		{"include ignores case of the name", []string{"*.pdf"}, nil, "INVOICE.PDF", true},
		{"include ignores case of the pattern", []string{"*.PDF"}, nil, "scan.pdf", true},
		{"a name matching no include is skipped", []string{"*.pdf", "*.csv"}, nil, "notes.txt", false},
		{"no include means every file", nil, nil, "notes.txt", true},
		{"hidden files are excluded by default", []string{"*.pdf"}, nil, ".secret.pdf", false},
		{"rsync temporary files are excluded by default", []string{"*.pdf"}, nil, ".invoice.pdf.Xy12Ab", false},
		{"vim swap files are excluded by default", nil, nil, ".invoice.pdf.swp", false},
		{"editor backups are excluded by default", nil, nil, "invoice.pdf~", false},
		{"partial downloads are excluded by default", nil, nil, "invoice.PART", false},
		{"temporary files are excluded by default", nil, nil, "x.TMP", false},
		{"an empty exclude list excludes nothing", nil, []string{}, ".hidden", true},
		{"the after-action's quarantine name is skipped with no exclude", nil, []string{}, ".docuparse-deleting-12", false},
		{"the after-action's quarantine name is skipped whatever the include", []string{".docuparse-*"}, []string{}, ".docuparse-deleting-12", false},
		{"a custom exclude replaces the default", nil, []string{"draft-*"}, ".hidden", true},
		{"a custom exclude ignores case", []string{"*.pdf"}, []string{"draft-*"}, "DRAFT-1.pdf", false},
		{"names with spaces and unicode match", []string{"*.pdf"}, nil, "Rechnung März 2026.pdf", true},
		{"names with a newline match", []string{"*.pdf"}, nil, "two\nlines.pdf", true},
		{"names with invalid UTF-8 match", []string{"*.pdf"}, nil, "bad\xff\xfe.PDF", true},
		{"character classes work", []string{"inv-[0-9]*.pdf"}, nil, "INV-42.pdf", true},
		{"a question mark is one character", []string{"?.csv"}, nil, "ab.csv", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newFolderMatcher(tt.include, tt.exclude)
			if err != nil {
				t.Fatalf("newFolderMatcher: %v", err)
			}
			if got := m.file(tt.file); got != tt.want {
				t.Errorf("file(%q) = %v, want %v", tt.file, got, tt.want)
			}
		})
	}
}

func TestFolderMatcherDirectories(t *testing.T) {
	m, err := newFolderMatcher([]string{"*.pdf"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]bool{
		"2026":   true, // include patterns do not apply to directories
		".git":   false,
		".sync":  false,
		"old~":   false,
		"Scans":  true,
		"x.TMP":  false,
		"März":   true,
		"a\nb":   true,
		"\xffok": true,
	} {
		if got := m.dir(dir); got != want {
			t.Errorf("dir(%q) = %v, want %v", dir, got, want)
		}
	}
}

func TestFolderMatcherRejectsBadPatterns(t *testing.T) {
	tests := []struct {
		name    string
		include []string
		exclude []string
		wantErr string
	}{
		{"a malformed include", []string{"[a-"}, nil, `include[0]: pattern "[a-"`},
		{"a malformed exclude", nil, []string{".*", "*["}, `exclude[1]: pattern "*["`},
		{"an empty pattern", []string{""}, nil, "include[0]: empty pattern"},
		{"a pattern with a slash", []string{"sub/*.pdf"}, nil, "patterns match base names only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newFolderMatcher(tt.include, tt.exclude)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestFolderNeverEmitsExcludedNamesOrAnythingInExcludedDirectories(t *testing.T) {
	b := setupFolder(t, func(c *FolderConfig, _ *folderHooks) {
		c.Include = []string{"*.pdf"}
	})
	for _, r := range []string{
		".hidden.pdf", ".inv.pdf.a1B2c3", ".inv.pdf.swp", "inv.pdf~", "x.tmp", "x.PART",
		"notes.txt", ".git/objects/ab.pdf", ".sync/in.pdf", "old~/a.pdf", "ok/.cache/c.pdf",
	} {
		folderWrite(t, filepath.Join(b.root, r), "x")
	}
	folderWrite(t, filepath.Join(b.root, "ok", "wanted.pdf"), "x")
	b.expect(t, "ok/wanted.pdf")
	b.barrier(t)
	b.rescan(t) // the listing applies the same rules
	b.barrier(t)
}

func TestFolderIncludeIgnoresCase(t *testing.T) {
	b := setupFolder(t, func(c *FolderConfig, _ *folderHooks) {
		c.Include = []string{"*.pdf", "*.CSV"}
	})
	for _, r := range []string{"INVOICE.PDF", "Scan.Pdf", "export.csv", "readme.md"} {
		folderWrite(t, filepath.Join(b.root, r), "x")
	}
	b.expect(t, "INVOICE.PDF", "Scan.Pdf", "export.csv")
	b.barrier(t)
}

func TestFolderNonRecursiveIgnoresSubfolders(t *testing.T) {
	b := setupFolder(t, func(c *FolderConfig, _ *folderHooks) {
		c.Recursive = false
	})
	folderWrite(t, filepath.Join(b.root, "sub", "deep.pdf"), "x")
	folderWrite(t, filepath.Join(b.root, "top.pdf"), "x")
	b.expect(t, "top.pdf")
	b.rescan(t)
	b.barrier(t)
}

// Every symlink is emitted as itself, its target never looked at (not even
// stat'ed: an automount or a dead network mount behind it could hang the
// watcher): its own size, never its target's. Intake records it rejected,
// as a link, without reading. A link to a folder is not descended into;
// a dangling one is a link like any other.
func TestFolderEmitsSymlinksAsThemselvesWithoutLookingAtTheirTargets(t *testing.T) {
	b := setupFolder(t, nil)
	outside := t.TempDir()
	target := filepath.Join(outside, "target.pdf")
	folderWrite(t, target, "target content")
	folderWrite(t, filepath.Join(outside, "dir", "inside.pdf"), "x")
	if err := os.Symlink(target, filepath.Join(b.root, "link.pdf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "dir"), filepath.Join(b.root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "missing"), filepath.Join(b.root, "dangling.pdf")); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(b.root, "s.sock")
	if l, err := net.Listen("unix", sock); err == nil { // a non-regular file
		defer l.Close()
	} else {
		t.Logf("no unix socket: %v", err)
	}
	got := b.expect(t, "link.pdf", "linkdir", "dangling.pdf")
	for name, target := range map[string]string{"link.pdf": target, "linkdir": filepath.Join(outside, "dir"),
		"dangling.pdf": filepath.Join(outside, "missing")} {
		if c := got[filepath.Join(b.root, name)]; c.Size != int64(len(target)) {
			t.Fatalf("%s: candidate size %d, want the link's own (%d), not its target's", name, c.Size, len(target))
		}
	}
	b.rescan(t)
	b.barrier(t)
}
