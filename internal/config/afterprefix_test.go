package config

import "testing"

// TestResolvedAfterPrefix: a bucket source's after = "move" archives next
// to its prefix (its parent) unless after_prefix says where.
func TestResolvedAfterPrefix(t *testing.T) {
	for _, tc := range []struct{ url, afterPrefix, want string }{
		{"s3://bkt/a/in/?region=eu-west-1", "", "a/"},
		{"s3://bkt/in/", "", ""},
		{"s3://bkt/in", "", ""},
		{"gs://bkt/", "", ""},
		{"gs://bkt", "", ""},
		{"azblob://c/x/y/z/", "", "x/y/"},
		{"file:///srv/drop?prefix=scans/in/", "", "scans/"},
		{"s3://bkt/a/in/", "archive/", "archive/"},
		{"s3://bkt/a/in/", "archive", "archive/"},
		{"", "", ""},
	} {
		s := Source{URL: tc.url, AfterPrefix: tc.afterPrefix}
		if got := s.ResolvedAfterPrefix(); got != tc.want {
			t.Errorf("url %q after_prefix %q: ResolvedAfterPrefix() = %q, want %q", tc.url, tc.afterPrefix, got, tc.want)
		}
	}
}
