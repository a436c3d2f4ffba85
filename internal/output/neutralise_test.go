package output

import "testing"

func TestNeutralise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Riverside Consulting LLC", "Riverside Consulting LLC"},
		{"=SUM(A1:A2)", "'=SUM(A1:A2)"},
		{"+1234", "'+1234"},
		{"@cmd", "'@cmd"},
		{"\tx", "'\tx"},
		{"\r=1", "'\r=1"},
		{"-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"},
		{"-", "'-"},
		{"-.5", "'-.5"},
		{"-5.", "'-5."},
		{"-1e3", "'-1e3"},
		{"-1,5", "'-1,5"},
		{"-2+3", "'-2+3"},
		{"+50.00", "'+50.00"},
		// Plain decimal numbers are data.
		{"-50.00", "-50.00"},
		{"-50", "-50"},
		{"-0.00", "-0.00"},
		{"3850.00", "3850.00"},
		// Already neutralised: unchanged (idempotent).
		{"'=SUM(A1)", "'=SUM(A1)"},
		// Only the first character matters.
		{"a=b", "a=b"},
		{" =1+1", " =1+1"},
	}
	for _, tc := range tests {
		if got := Neutralise(tc.in); got != tc.want {
			t.Errorf("Neutralise(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := Neutralise(Neutralise(tc.in)); got != tc.want {
			t.Errorf("Neutralise twice (%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIsPlainDecimal(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12.5": true, "-12.50": true, "007": true,
		"": false, "-": false, ".5": false, "5.": false, "1.2.3": false, "1e5": false,
		"--1": false, "+1": false, "1 ": false, "١٢": false,
	} {
		if got := isPlainDecimal(s); got != want {
			t.Errorf("isPlainDecimal(%q) = %v, want %v", s, got, want)
		}
	}
}
