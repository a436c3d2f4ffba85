package receiver

import (
	"strings"
	"testing"
	"unicode"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// FuzzTheShapeCheckNeverRefusesWhatVerifyAccepts builds headers around a
// real signature (text before and after it, hex digits flipped in case) and
// checks that the early shape check lets through every header Verify
// accepts, so checking it before the read changes no verdict.
func FuzzTheShapeCheckNeverRefusesWhatVerifyAccepts(f *testing.F) {
	for _, seed := range []struct {
		body, before, after string
		upper               uint64
	}{
		{`{}`, "", "", 0},
		{`{}`, " ", " ", 0},
		{`{"event":"x"}`, "\t ", "\t", ^uint64(0)},
		{`{}`, "\u00a0", "\u2003", 0xf0f0},
		{`{}`, "sha256=", "", 0},
		{`{}`, "", "0", 0},
		{`{}`, "x", "", 0},
	} {
		f.Add([]byte(seed.body), seed.before, seed.after, seed.upper)
	}
	secret := []byte("whsec_fuzz")
	f.Fuzz(func(t *testing.T, body []byte, before, after string, upper uint64) {
		sig := []byte(docuparse.Sign(secret, body))
		for i := len(docuparse.SignaturePrefix); i < len(sig); i++ {
			if upper&(1<<(i%64)) != 0 {
				sig[i] = byte(unicode.ToUpper(rune(sig[i])))
			}
		}
		header := before + string(sig) + after
		if docuparse.Verify([][]byte{secret}, body, header) && !wellFormedSignature(header) {
			t.Fatalf("Verify accepts %q but the shape check refuses it", header)
		}
		if strings.TrimSpace(before) == "" && strings.TrimSpace(after) == "" && !wellFormedSignature(header) {
			t.Fatalf("a signature with only surrounding space %q is refused", header)
		}
	})
}

func TestTheShapeCheckRefusesEveryMalformedHeader(t *testing.T) {
	hex64 := strings.Repeat("aB3", 21) + "f"
	for _, h := range []string{
		"", " ", "sha256=", hex64, "sha256=" + hex64[1:], "sha256=" + hex64 + "0",
		"sha256=" + hex64[:63] + "g", "sha256=" + hex64[:63] + "é", "SHA256=" + hex64, "sha1=" + hex64,
		"sha256= " + hex64[1:], "sha256=" + hex64[:32] + " " + hex64[33:], "sha256=sha256=" + hex64,
	} {
		if wellFormedSignature(h) {
			t.Errorf("%q passes the shape check", h)
		}
	}
	for _, h := range []string{"sha256=" + hex64, " sha256=" + hex64 + "\t", "sha256=" + strings.ToUpper(hex64)} {
		if !wellFormedSignature(h) {
			t.Errorf("%q fails the shape check", h)
		}
	}
}
