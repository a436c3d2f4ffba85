package config

import (
	"fmt"
	"time"
)

// The file* types mirror the TOML schema. Every leaf is a raw value, so the
// TOML decoder never stops at a wrongly typed value: the conversion to
// Config (decode.go) checks each one and reports every problem at once,
// while toml.MetaData.Undecoded still finds the keys no field claims.

// raw captures one TOML value as decoded (string, int64, float64, bool,
// time.Time, []any or map[string]any) and whether the key was present.
type raw struct {
	v   any
	set bool
}

// UnmarshalTOML implements toml.Unmarshaler; it accepts anything.
func (r *raw) UnmarshalTOML(v any) error {
	r.v, r.set = v, true
	return nil
}

type fileConfig struct {
	StateDir  raw           `toml:"state_dir"`
	OutputDir raw           `toml:"output_dir"`
	OutputURL raw           `toml:"output_url"`
	API       fileAPI       `toml:"api"`
	Batch     fileBatch     `toml:"batch"`
	Receiver  fileReceiver  `toml:"receiver"`
	Reconcile fileReconcile `toml:"reconcile"`
	Report    fileReport    `toml:"report"`
	Output    fileOutput    `toml:"output"`
	Admin     fileAdmin     `toml:"admin"`
	Log       fileLog       `toml:"log"`
	State     fileState     `toml:"state"`
	Source    []fileSource  `toml:"source"`
}

type fileAPI struct {
	BaseURL      raw `toml:"base_url"`
	APIKeyFile   raw `toml:"api_key_file"`
	BatchUpload  raw `toml:"batch_upload"`
	Concurrency  raw `toml:"concurrency"`
	RateLimit    raw `toml:"rate_limit"`
	Timeout      raw `toml:"timeout"`
	MaxFileSize  raw `toml:"max_file_size"`
	DocumentType raw `toml:"document_type"`
	MaxUnusable  raw `toml:"max_unusable_answers"`
}

type fileBatch struct {
	MaxFiles raw `toml:"max_files"`
	MaxBytes raw `toml:"max_bytes"`
	MaxWait  raw `toml:"max_wait"`
}

type fileReceiver struct {
	Enabled            raw `toml:"enabled"`
	Listen             raw `toml:"listen"`
	Path               raw `toml:"path"`
	SecretFile         raw `toml:"secret_file"`
	SecretFiles        raw `toml:"secret_files"`
	MaxBody            raw `toml:"max_body"`
	MaxEventAge        raw `toml:"max_event_age"`
	InsecureSkipVerify raw `toml:"insecure_skip_verify"`
}

type fileReconcile struct {
	WebhookGrace raw `toml:"webhook_grace"`
	PollInterval raw `toml:"poll_interval"`
	StuckAfter   raw `toml:"stuck_after"`
}

type fileReport struct {
	At       raw `toml:"at"`
	Timezone raw `toml:"timezone"`
}

type fileOutput struct {
	CSVBOM           raw `toml:"csv_bom"`
	LineItemsContext raw `toml:"line_items_context"`
}

type fileAdmin struct {
	Listen raw `toml:"listen"`
}

type fileState struct {
	Retention raw `toml:"retention"`
}

type fileLog struct {
	Format raw `toml:"format"`
	Level  raw `toml:"level"`
}

type fileSource struct {
	Name      raw `toml:"name"`
	Path      raw `toml:"path"`
	URL       raw `toml:"url"`
	Include   raw `toml:"include"`
	Exclude   raw `toml:"exclude"`
	Recursive raw `toml:"recursive"`
	Settle    raw `toml:"settle"`
	After     raw `toml:"after"`
	MoveTo    raw `toml:"move_to"`
	// MoveRejectedTo is read into Source.MoveRejectedTo.
	MoveRejectedTo raw `toml:"move_rejected_to"`
	EmptyWait      raw `toml:"empty_wait"`
	Dedupe         raw `toml:"dedupe"`
	Rescan         raw `toml:"rescan"`
	PollInterval   raw `toml:"poll_interval"`
	AfterPrefix    raw `toml:"after_prefix"`
}

// tables are the top-level keys that must hold a table.
var tables = []string{"api", "batch", "receiver", "reconcile", "report", "output", "admin", "log", "state"}

// checkShape reports top-level keys whose TOML kind cannot fit the schema
// (a table written as a value, [source] instead of [[source]]): the struct
// decoder would stop at the first of them with a message about Go types.
func checkShape(tree map[string]any, p *problems) {
	for _, k := range tables {
		if v, ok := tree[k]; ok {
			if _, isTable := v.(map[string]any); !isTable {
				p.invalid(k, "must be a table [%s], not %s", k, kindOf(v))
			}
		}
	}
	if v, ok := tree["source"]; ok && sourceTables(v) == nil {
		p.invalid("source", "must be written as [[source]] tables (one per source), not %s", kindOf(v))
	}
}

// sourceTables returns the [[source]] tables of a decoded tree value, or nil
// when v is not an array of tables.
func sourceTables(v any) []map[string]any {
	switch v := v.(type) {
	case []map[string]any:
		return v
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil
			}
			out = append(out, m)
		}
		return out
	}
	return nil
}

// kindOf names a decoded TOML value's kind for error messages.
func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date/time"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a %T", v)
}
