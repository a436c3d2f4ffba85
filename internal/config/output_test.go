package config

import (
	"strings"
	"testing"
)

// TestOutputTable reads the [output] table: both options default to false
// and are read when set.
func TestOutputTable(t *testing.T) {
	if c := mustParse(t, minimal, withSecrets()); c.Output.CSVBOM || c.Output.LineItemsContext {
		t.Fatalf("defaults: %+v, want both false", c.Output)
	}
	c := mustParse(t, minimal+"\n[output]\ncsv_bom = true\nline_items_context = true\n", withSecrets())
	if !c.Output.CSVBOM || !c.Output.LineItemsContext {
		t.Fatalf("read: %+v, want both true", c.Output)
	}
}

// TestOutputTableRejectsBadValues: a wrong type or an unknown key names the
// key and the file.
func TestOutputTableRejectsBadValues(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{`csv_bom = "yes"`, `config.toml: output.csv_bom: must be true or false, not a string`},
		{`line_items_context = 1`, `config.toml: output.line_items_context: must be true or false, not an integer`},
		{`csv_bommm = true`, `config.toml: output.csv_bommm: unknown key`},
	} {
		_, err := parse(t, minimal+"\n[output]\n"+tc.text+"\n", withSecrets())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.text, err, tc.want)
		}
	}
	_, err := parse(t, "output = true\n"+minimal, withSecrets())
	if err == nil || !strings.Contains(err.Error(), "output: must be a table [output]") {
		t.Errorf("output as a value: err = %v", err)
	}
}
