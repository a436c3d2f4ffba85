package ingest

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
)

// DefaultExclude is the exclusion list a folder source uses when its Exclude
// is nil: hidden names (which also covers rsync's ".name.a1B2c3" temporary
// files, editors' ".name.swp" and directories such as ".git"), and the usual
// names of partial downloads and editor backups.
var DefaultExclude = []string{".*", "*.tmp", "*.part", "*~"}

// folderMatcher decides which base names a folder source looks at. Patterns
// use path.Match syntax and are matched case-insensitively: both the pattern
// and the name are lower-cased before matching.
type folderMatcher struct {
	include []glob // lower-cased; empty means every file
	exclude []glob // lower-cased
}

// glob is one lower-cased pattern, with what a listing of a million files
// needs to match the common ones without path.Match: "*x" (a suffix), "x*"
// (a prefix) or "x" (the name), x holding no metacharacter. A base name
// holds no '/', so '*' matches any run of it.
type glob struct {
	pattern string
	kind    globKind
	lit     string // the suffix, prefix or name
}

type globKind uint8

const (
	globOther  globKind = iota // path.Match
	globSuffix                 // "*x"
	globPrefix                 // "x*"
	globExact                  // "x"
)

// newGlob classifies the lower-cased pattern p.
func newGlob(p string) glob {
	const meta = `*?[\`
	switch {
	case len(p) > 0 && p[0] == '*' && !strings.ContainsAny(p[1:], meta):
		return glob{pattern: p, kind: globSuffix, lit: p[1:]}
	case len(p) > 0 && p[len(p)-1] == '*' && !strings.ContainsAny(p[:len(p)-1], meta):
		return glob{pattern: p, kind: globPrefix, lit: p[:len(p)-1]}
	case !strings.ContainsAny(p, meta):
		return glob{pattern: p, kind: globExact, lit: p}
	}
	return glob{pattern: p}
}

// match reports whether the lower-cased base name matches.
func (g glob) match(lname string) bool {
	switch g.kind {
	case globSuffix:
		return strings.HasSuffix(lname, g.lit)
	case globPrefix:
		return strings.HasPrefix(lname, g.lit)
	case globExact:
		return lname == g.lit
	}
	ok, _ := path.Match(g.pattern, lname)
	return ok
}

// newFolderMatcher validates and lower-cases the patterns. A nil exclude
// means DefaultExclude; an empty, non-nil one excludes nothing.
func newFolderMatcher(include, exclude []string) (folderMatcher, error) {
	if exclude == nil {
		exclude = DefaultExclude
	}
	var m folderMatcher
	var errs []error
	var err error
	if m.include, err = folderPatterns("include", include); err != nil {
		errs = append(errs, err)
	}
	if m.exclude, err = folderPatterns("exclude", exclude); err != nil {
		errs = append(errs, err)
	}
	return m, errors.Join(errs...)
}

// folderPatterns checks each pattern and returns them lower-cased.
func folderPatterns(field string, patterns []string) ([]glob, error) {
	out := make([]glob, 0, len(patterns))
	var errs []error
	for i, p := range patterns {
		switch {
		case p == "":
			errs = append(errs, fmt.Errorf("%s[%d]: empty pattern", field, i))
			continue
		case strings.Contains(p, "/"):
			errs = append(errs, fmt.Errorf("%s[%d]: pattern %q contains '/': patterns match base names only", field, i, p))
			continue
		}
		lp := strings.ToLower(p)
		if _, err := path.Match(lp, ""); err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: pattern %q: %w", field, i, p, err))
			continue
		}
		out = append(out, newGlob(lp))
	}
	return out, errors.Join(errs...)
}

// file reports whether a file with this base name is wanted: it matches an
// include pattern (or there are none) and no exclude pattern. A name an
// after-action's delete quarantines a file under (safedir.QuarantinePrefix)
// is never wanted, whatever the patterns say.
func (m folderMatcher) file(name string) bool {
	lname := strings.ToLower(name)
	if safedir.IsQuarantineName(name) || folderMatchAny(m.exclude, lname) {
		return false
	}
	return len(m.include) == 0 || folderMatchAny(m.include, lname)
}

// dir reports whether a directory with this base name may be descended
// into: it matches no exclude pattern. Include patterns do not apply to
// directories.
func (m folderMatcher) dir(name string) bool {
	return !folderMatchAny(m.exclude, strings.ToLower(name))
}

// folderMatchAny reports whether lname matches one of the lower-cased patterns.
// The patterns were validated, so path.Match cannot fail here.
func folderMatchAny(patterns []glob, lname string) bool {
	for _, g := range patterns {
		if g.match(lname) {
			return true
		}
	}
	return false
}
