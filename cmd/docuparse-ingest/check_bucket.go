package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// bucketCheckTimeout bounds each bucket source's check: some clients
// retry an unreachable endpoint until their context ends.
const bucketCheckTimeout = 20 * time.Second

// checkBuckets checks every bucket source (see checkBucketSource) and
// output_url (see checkOutputURL).
func checkBuckets(ctx context.Context, cfg *config.Config) []check {
	var out []check
	for i, src := range cfg.Sources {
		if src.URL != "" {
			out = append(out, checkBucketSource(ctx, i, src))
		}
	}
	if cfg.OutputURL != "" {
		out = append(out, checkOutputURL(ctx, cfg.OutputURL))
	}
	return out
}

// checkOutputURL opens output_url's bucket, lists one page under its
// prefix and checks the credentials may write there (a probe object,
// written and deleted; the mirror itself never deletes). One line.
func checkOutputURL(ctx context.Context, raw string) check {
	loc, err := bucket.Parse(raw)
	if err != nil { // validation refused it already
		return check{what: "output_url: " + err.Error(), fix: "correct output_url"}
	}
	name := "output_url " + loc.String()
	ctx, cancel := context.WithTimeout(ctx, bucketCheckTimeout)
	defer cancel()
	b, err := loc.Open(ctx)
	if err != nil {
		return check{what: name + " cannot be opened: " + err.Error(), fix: "correct output_url or the cloud's credentials"}
	}
	defer b.Close()
	c, err := b.Check(ctx, bucket.Need{WriteUnder: loc.Prefix})
	if err != nil {
		fix := "check output_url (bucket name, ?region=, endpoint), the network and the cloud's credentials"
		switch {
		case bucket.IsNotFound(err):
			fix = "create the bucket, or correct output_url"
		case bucket.IsDenied(err) || strings.Contains(err.Error(), "access denied"):
			fix = "let the credentials list, read and write under output_url (docs/operations.md, \"Bucket sources: permissions\")"
		}
		return check{what: name + ": " + err.Error(), fix: fix}
	}
	what := name + " lists and may be written (outputs are mirrored there)"
	if c.Note != "" {
		what += "; " + c.Note
	}
	return check{ok: true, what: what}
}

// checkBucketSource opens source i's bucket, lists one page under its
// prefix and, for after = "delete" or "move", checks that the credentials
// may delete there (and for move write under <after_prefix>processed/),
// with probes that touch no real object (bucket.Check). One line: ok with
// the first page's count, or what is wrong (bucket missing, access denied,
// region wrong, unreachable) and the fix.
func checkBucketSource(ctx context.Context, i int, src config.Source) check {
	key := fmt.Sprintf("source[%d].url", i)
	loc, err := bucket.Parse(src.URL)
	if err != nil { // validation refused it already
		return check{what: fmt.Sprintf("source[%d] %q: %v", i, src.Name, err), fix: "correct " + key}
	}
	name := fmt.Sprintf("source[%d] %q: %s", i, src.Name, loc)
	ctx, cancel := context.WithTimeout(ctx, bucketCheckTimeout)
	defer cancel()
	b, err := loc.Open(ctx)
	if err != nil {
		return check{what: name + " cannot be opened: " + err.Error(), fix: "correct " + key + " or the cloud's credentials"}
	}
	defer b.Close()
	var need bucket.Need
	switch src.After {
	case vocab.AfterDelete:
		need.Delete = true
	case vocab.AfterMove:
		need = bucket.Need{Delete: true, WriteUnder: src.ResolvedAfterPrefix() + "processed/"}
	}
	c, err := b.Check(ctx, need)
	if err != nil {
		return check{what: name + ": " + err.Error(), fix: bucketFix(i, src, err)}
	}
	what := fmt.Sprintf("%s lists (%d object(s) on the first page", name, c.Objects)
	if c.More {
		what += ", more after it"
	}
	what += ")"
	switch src.After {
	case vocab.AfterDelete:
		what += "; the credentials may delete there (after = delete)"
	case vocab.AfterMove:
		what += fmt.Sprintf("; the credentials may delete there and write under %s (after = move)", loc.PathOf(need.WriteUnder))
	}
	if c.Note != "" {
		what += "; " + c.Note
	}
	return check{ok: true, what: what}
}

// bucketFix says what to do about a failed bucket check.
func bucketFix(i int, src config.Source, err error) string {
	key := fmt.Sprintf("source[%d]", i)
	switch {
	case bucket.IsNotFound(err):
		return "create the bucket, or correct " + key + ".url"
	// The probes' own S3 requests bypass gocloud's error codes; Describe
	// says "access denied" for them too.
	case bucket.IsDenied(err) || strings.Contains(err.Error(), "access denied"):
		if src.After == vocab.AfterKeep {
			return "let the credentials list and read " + key + ".url (docs/operations.md, \"Bucket sources: permissions\")"
		}
		return fmt.Sprintf("give the credentials what after = %q needs (docs/operations.md, \"Bucket sources: permissions\"), or set %s.after = \"keep\"", src.After, key)
	}
	return "check " + key + ".url (bucket name, ?region=, endpoint), the network and the cloud's credentials"
}
