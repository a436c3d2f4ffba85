package bucket

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Schemes are the URL schemes a bucket may have.
var Schemes = []string{"s3", "gs", "azblob", "file", "mem"}

// Location is a parsed bucket URL: which bucket, and the key prefix within
// it that plays the part of a source's folder.
type Location struct {
	Scheme string // one of Schemes
	// Bucket is the bucket or container name (the URL's host); for file,
	// the directory (the URL's path); for mem, the name of an in-process
	// bucket (empty is a name too).
	Bucket string
	// Prefix is the key prefix: empty, or ending in "/". From the URL's path
	// (for file, from the "prefix" query parameter gocloud defines).
	Prefix string

	open string // the URL handed to gocloud: the bucket, with its query, without the prefix
}

// Parse parses a bucket URL as a [[source]] url or output_url holds it:
// s3://bucket/prefix/?region=…, gs://bucket/prefix/, azblob://container/prefix/,
// file:///dir/ or mem://name/prefix/. The query is handed to gocloud's
// opener as written, so every option the driver accepts works. Errors never
// show the query or user information, which may hold credentials.
func Parse(raw string) (Location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, errors.New("is not a valid URL (value not shown: it may hold credentials)")
	}
	if u.User != nil {
		return Location{}, fmt.Errorf("%smust not contain user credentials: each cloud's credentials come from its environment, shared config or instance identity", Redact(raw))
	}
	if u.Opaque != "" || u.Fragment != "" {
		return Location{}, fmt.Errorf("%sis not a bucket URL of the form scheme://bucket/prefix/", Redact(raw))
	}
	l := Location{Scheme: u.Scheme}
	q := u.Query()
	switch u.Scheme {
	case "s3", "gs", "azblob":
		if u.Host == "" {
			return Location{}, fmt.Errorf("%snames no bucket: write %s://BUCKET/prefix/", Redact(raw), u.Scheme)
		}
		l.Bucket = u.Host
		l.Prefix = strings.TrimPrefix(u.Path, "/")
	case "mem":
		l.Bucket = u.Host
		l.Prefix = strings.TrimPrefix(u.Path, "/")
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return Location{}, fmt.Errorf("%shas a host: a file URL is file:///absolute/dir/", Redact(raw))
		}
		if !path.IsAbs(u.Path) {
			return Location{}, fmt.Errorf("%sneeds an absolute directory: file:///absolute/dir/", Redact(raw))
		}
		l.Bucket = path.Clean(u.Path)
	case "":
		return Location{}, fmt.Errorf("%sneeds a scheme, e.g. \"s3://bucket/prefix/?region=eu-west-1\"", Redact(raw))
	default:
		return Location{}, fmt.Errorf("%shas scheme %q; a bucket URL is one of %s://", Redact(raw), u.Scheme, strings.Join(Schemes, "://, "))
	}
	if p := q.Get("prefix"); p != "" {
		if l.Prefix != "" {
			return Location{}, fmt.Errorf("%ssets the prefix twice (in its path and in ?prefix=)", Redact(raw))
		}
		l.Prefix = p
		q.Del("prefix")
	}
	if l.Prefix != "" && !strings.HasSuffix(l.Prefix, "/") {
		l.Prefix += "/"
	}
	if strings.HasPrefix(l.Prefix, "/") || hasDotSegment(l.Prefix) {
		return Location{}, fmt.Errorf("%shas a prefix with an empty, '.' or '..' part", Redact(raw))
	}
	open := url.URL{Scheme: u.Scheme, Host: u.Host, RawQuery: q.Encode()}
	if u.Scheme == "file" {
		open.Path = l.Bucket
	}
	l.open = open.String()
	return l, nil
}

// hasDotSegment reports whether a "/"-separated prefix has an empty, "."
// or ".." segment (a trailing "/" aside).
func hasDotSegment(prefix string) bool {
	for _, s := range strings.Split(strings.TrimSuffix(prefix, "/"), "/") {
		if prefix != "" && (s == "" || s == "." || s == "..") {
			return true
		}
	}
	return false
}

// String returns the location as shown to people: scheme, bucket and
// prefix, never the query (which may hold an endpoint's credentials).
func (l Location) String() string { return l.base() + l.Prefix }

// base is the location of the bucket's root as shown to people.
func (l Location) base() string {
	if l.Scheme == "file" {
		return "file://" + strings.TrimSuffix(l.Bucket, "/") + "/"
	}
	return l.Scheme + "://" + l.Bucket + "/"
}

// PathOf returns the path recorded for an object: its URL without the
// query (s3://bucket/prefix/key.pdf), the `source` column of the CSV.
func (l Location) PathOf(key string) string { return l.base() + key }

// KeyOf returns the key of the object at a path made by PathOf, and
// whether path is within this bucket at all.
func (l Location) KeyOf(p string) (string, bool) {
	key, ok := strings.CutPrefix(p, l.base())
	return key, ok && key != ""
}

// Redact returns raw as safe to show in a message, quoted and followed by
// a space: scheme, host and path only. A URL that cannot be shown safely
// gives "".
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return ""
	}
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	s := v.String()
	if strings.Contains(s, "@") {
		return ""
	}
	return fmt.Sprintf("%q ", s)
}
