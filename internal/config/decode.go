package config

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// decoder converts raw TOML values into typed fields, reporting each wrongly
// typed or malformed value under its dotted key. A field is only assigned
// when its key is present and its value is good, so defaults stay in place
// otherwise.
type decoder struct{ p *problems }

func (d decoder) wrongType(key string, want string, v any) {
	d.p.invalid(key, "must be %s, not %s", want, kindOf(v))
}

// typed returns r's value as a T when its key is present and the value is
// one; a present value of another type is reported as not want. ok is
// false in both other cases: the field keeps what it held.
func typed[T any](d decoder, r raw, key, want string) (v T, ok bool) {
	if !r.set {
		return v, false
	}
	v, ok = r.v.(T)
	if !ok {
		d.wrongType(key, want, r.v)
	}
	return v, ok
}

func (d decoder) str(r raw, key string, dst *string) {
	if s, ok := typed[string](d, r, key, "a string"); ok {
		*dst = s
	}
}

func (d decoder) boolean(r raw, key string, dst *bool) {
	if b, ok := typed[bool](d, r, key, "true or false"); ok {
		*dst = b
	}
}

func (d decoder) integer(r raw, key string, dst *int) {
	n, ok := typed[int64](d, r, key, "an integer")
	if !ok {
		return
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		d.p.invalid(key, "%d is out of range", n)
		return
	}
	*dst = int(n)
}

func (d decoder) float(r raw, key string, dst *float64) {
	if !r.set {
		return
	}
	switch v := r.v.(type) {
	case int64:
		*dst = float64(v)
	case float64:
		*dst = v
	default:
		d.wrongType(key, "a number", r.v)
	}
}

func (d decoder) duration(r raw, key string, dst *Duration) {
	if !r.set {
		return
	}
	s, ok := r.v.(string)
	if !ok {
		if n, isInt := r.v.(int64); isInt {
			d.p.invalid(key, "invalid duration %d: write it as a string with a unit, e.g. \"%ds\"", n, n)
			return
		}
		d.wrongType(key, `a duration string such as "30s"`, r.v)
		return
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.p.invalid(key, "%v", err)
		return
	}
	*dst = v
}

func (d decoder) size(r raw, key string, dst *Size) {
	if !r.set {
		return
	}
	switch v := r.v.(type) {
	case int64:
		*dst = Size(v) // negative values are caught by validation
	case string:
		s, err := ParseSize(v)
		if err != nil {
			d.p.invalid(key, "%v", err)
			return
		}
		*dst = s
	default:
		d.wrongType(key, `a size such as "10MB" or a number of bytes`, r.v)
	}
}

func (d decoder) strings(r raw, key string, dst *[]string) {
	arr, ok := typed[[]any](d, r, key, "an array of strings")
	if !ok {
		return
	}
	out := make([]string, 0, len(arr))
	good := true
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			d.wrongType(fmt.Sprintf("%s[%d]", key, i), "a string", e)
			good = false
			continue
		}
		out = append(out, s)
	}
	if good {
		*dst = out
	}
}

// clock reads report.at: "HH:MM", or a TOML local time such as 02:00:00.
func (d decoder) clock(r raw, key string, dst *string) {
	if !r.set {
		return
	}
	if t, ok := r.v.(time.Time); ok {
		if t.Year() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
			d.p.invalid(key, `must be a time of day "HH:MM", e.g. "02:00"`)
			return
		}
		*dst = fmt.Sprintf("%02d:%02d", t.Hour(), t.Minute())
		return
	}
	d.str(r, key, dst)
}

// secretRefs are the secret file names as written in the file, with the key
// each came from, for the secrets step.
type secretRefs struct {
	apiKeyFile   string
	webhookFiles []keyedPath
}

type keyedPath struct{ key, path string }

// build converts the mirror into a Config on top of the defaults.
func (d decoder) build(f *fileConfig) (*Config, secretRefs) {
	c := Default()
	var refs secretRefs

	d.str(f.StateDir, "state_dir", &c.StateDir)
	c.OutputDir = ""
	d.str(f.OutputDir, "output_dir", &c.OutputDir)
	d.str(f.OutputURL, "output_url", &c.OutputURL)

	a := &c.API
	d.str(f.API.BaseURL, "api.base_url", &a.BaseURL)
	d.str(f.API.APIKeyFile, "api.api_key_file", &refs.apiKeyFile)
	d.boolean(f.API.BatchUpload, "api.batch_upload", &a.BatchUpload)
	d.integer(f.API.Concurrency, "api.concurrency", &a.Concurrency)
	d.float(f.API.RateLimit, "api.rate_limit", &a.RateLimit)
	d.duration(f.API.Timeout, "api.timeout", &a.Timeout)
	d.size(f.API.MaxFileSize, "api.max_file_size", &a.MaxFileSize)
	d.str(f.API.DocumentType, "api.document_type", &a.DocumentType)
	d.integer(f.API.MaxUnusable, "api.max_unusable_answers", &a.MaxUnusableAnswers)

	d.integer(f.Batch.MaxFiles, "batch.max_files", &c.Batch.MaxFiles)
	d.size(f.Batch.MaxBytes, "batch.max_bytes", &c.Batch.MaxBytes)
	d.duration(f.Batch.MaxWait, "batch.max_wait", &c.Batch.MaxWait)

	rc := &c.Receiver
	d.boolean(f.Receiver.Enabled, "receiver.enabled", &rc.Enabled)
	d.str(f.Receiver.Listen, "receiver.listen", &rc.Listen)
	d.str(f.Receiver.Path, "receiver.path", &rc.Path)
	var one string
	d.str(f.Receiver.SecretFile, "receiver.secret_file", &one)
	if one != "" {
		refs.webhookFiles = append(refs.webhookFiles, keyedPath{"receiver.secret_file", one})
	}
	var many []string
	d.strings(f.Receiver.SecretFiles, "receiver.secret_files", &many)
	for i, p := range many {
		refs.webhookFiles = append(refs.webhookFiles, keyedPath{fmt.Sprintf("receiver.secret_files[%d]", i), p})
	}
	d.size(f.Receiver.MaxBody, "receiver.max_body", &rc.MaxBody)
	d.duration(f.Receiver.MaxEventAge, "receiver.max_event_age", &rc.MaxEventAge)
	d.boolean(f.Receiver.InsecureSkipVerify, "receiver.insecure_skip_verify", &rc.AllowUnsigned)

	d.duration(f.Reconcile.WebhookGrace, "reconcile.webhook_grace", &c.Reconcile.WebhookGrace)
	d.duration(f.Reconcile.PollInterval, "reconcile.poll_interval", &c.Reconcile.PollInterval)
	d.duration(f.Reconcile.StuckAfter, "reconcile.stuck_after", &c.Reconcile.StuckAfter)

	d.clock(f.Report.At, "report.at", &c.Report.At)
	d.str(f.Report.Timezone, "report.timezone", &c.Report.Timezone)

	d.boolean(f.Output.CSVBOM, "output.csv_bom", &c.Output.CSVBOM)
	d.boolean(f.Output.LineItemsContext, "output.line_items_context", &c.Output.LineItemsContext)

	d.str(f.Admin.Listen, "admin.listen", &c.Admin.Listen)

	d.str(f.Log.Format, "log.format", &c.Log.Format)
	d.str(f.Log.Level, "log.level", &c.Log.Level)

	d.duration(f.State.Retention, "state.retention", &c.State.Retention)

	for i := range f.Source {
		c.Sources = append(c.Sources, d.source(&f.Source[i], "source["+strconv.Itoa(i)+"]"))
	}
	return c, refs
}

func (d decoder) source(f *fileSource, key string) Source {
	s := DefaultSource()
	d.str(f.Name, key+".name", &s.Name)
	d.str(f.Path, key+".path", &s.Path)
	d.str(f.URL, key+".url", &s.URL)
	d.strings(f.Include, key+".include", &s.Include)
	d.strings(f.Exclude, key+".exclude", &s.Exclude)
	d.boolean(f.Recursive, key+".recursive", &s.Recursive)
	d.duration(f.Settle, key+".settle", &s.Settle)
	d.str(f.After, key+".after", &s.After)
	d.str(f.MoveTo, key+".move_to", &s.MoveTo)
	d.str(f.MoveRejectedTo, key+".move_rejected_to", &s.MoveRejectedTo)
	d.boolean(f.Dedupe, key+".dedupe", &s.Dedupe)
	d.duration(f.Rescan, key+".rescan", &s.Rescan)
	d.duration(f.EmptyWait, key+".empty_wait", &s.EmptyWait)
	d.duration(f.PollInterval, key+".poll_interval", &s.PollInterval)
	d.str(f.AfterPrefix, key+".after_prefix", &s.AfterPrefix)
	return s
}
