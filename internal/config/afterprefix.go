package config

import (
	"path"
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
)

// ResolvedAfterPrefix returns the key prefix under which a bucket source's
// after = "move" puts processed/ and failed/: AfterPrefix (ending in "/"),
// or when it is empty the parent of the URL's prefix ("a/in/" gives "a/",
// "in/" and "" give "", the bucket's root). It is "" for a folder source
// or a URL that does not parse (validation reports that).
func (s Source) ResolvedAfterPrefix() string {
	if s.AfterPrefix != "" {
		return strings.TrimSuffix(s.AfterPrefix, "/") + "/"
	}
	loc, err := bucket.Parse(s.URL)
	if s.URL == "" || err != nil || loc.Prefix == "" {
		return ""
	}
	parent := path.Dir(strings.TrimSuffix(loc.Prefix, "/"))
	if parent == "." {
		return ""
	}
	return parent + "/"
}
