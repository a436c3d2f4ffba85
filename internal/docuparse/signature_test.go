package docuparse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// articleBody is the article's "simulate locally" payload, byte for byte as
// curl would send it with the JSON on one line.
const articleBody = `{"event":"document.completed","document_id":"doc_test123","timestamp":"2026-05-19T14:00:00Z",` +
	`"data":{"merchant":"Test Vendor","total":"100.00","currency":"USD","date":"2026-05-19"}}`

// referenceHMAC computes the article's Python reference independently of
// Sign: "sha256=" + hmac.new(secret, payload, hashlib.sha256).hexdigest().
func referenceHMAC(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestSignMatchesTheArticlesPythonReference(t *testing.T) {
	cases := []struct {
		name, secret, body, want string
	}{
		// Printed by the article's is_valid_signature expression in
		// CPython 3: "sha256=" + hmac.new(b"whsec_article_example",
		// body, hashlib.sha256).hexdigest().
		{"the article's sample event under a fixed secret", "whsec_article_example", articleBody,
			"sha256=89161d93245ee0dfc28a7369e8ff099e9fded4e296fb537e9248006d011b6c5f"},
		// RFC 4231, test case 2.
		{"the RFC 4231 HMAC-SHA256 vector", "Jefe", "what do ya want for nothing?",
			"sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Sign([]byte(tc.secret), []byte(tc.body))
			if got != tc.want {
				t.Errorf("Sign = %s, want %s", got, tc.want)
			}
			if ref := referenceHMAC([]byte(tc.secret), []byte(tc.body)); got != ref {
				t.Errorf("Sign = %s, crypto/hmac reference = %s", got, ref)
			}
			if !Verify([][]byte{[]byte(tc.secret)}, []byte(tc.body), tc.want) {
				t.Error("Verify refuses the reference signature")
			}
		})
	}
}

func TestSignIsLowercaseHexWithThePrefix(t *testing.T) {
	sig := Sign([]byte("s"), []byte("body"))
	hexPart, ok := strings.CutPrefix(sig, SignaturePrefix)
	if !ok || len(hexPart) != 64 || strings.ToLower(hexPart) != hexPart {
		t.Fatalf("Sign = %q, want sha256= and 64 lowercase hex digits", sig)
	}
}

func TestVerify(t *testing.T) {
	secret, other := []byte("whsec_current"), []byte("whsec_previous")
	body := []byte(articleBody)
	good := Sign(secret, body)
	goodHex := strings.TrimPrefix(good, SignaturePrefix)
	cases := []struct {
		name    string
		secrets [][]byte
		body    []byte
		header  string
		want    bool
	}{
		{"a lowercase signature under the secret is valid", [][]byte{secret}, body, good, true},
		{"an uppercase hex digest is valid", [][]byte{secret}, body, SignaturePrefix + strings.ToUpper(goodHex), true},
		{"a mixed-case hex digest is valid", [][]byte{secret}, body, SignaturePrefix + strings.ToUpper(goodHex[:32]) + goodHex[32:], true},
		{"surrounding white space is ignored", [][]byte{secret}, body, " " + good + "\t", true},
		{"the first secret of a rotation matches", [][]byte{secret, other}, body, good, true},
		{"the second secret of a rotation matches", [][]byte{other, secret}, body, good, true},
		{"an empty secret in the rotation is skipped, the other still matches", [][]byte{{}, secret}, body, good, true},
		{"an empty body can be signed", [][]byte{secret}, nil, Sign(secret, nil), true},

		{"an empty header is invalid", [][]byte{secret}, body, "", false},
		{"the prefix alone is invalid", [][]byte{secret}, body, SignaturePrefix, false},
		{"a missing prefix is invalid", [][]byte{secret}, body, goodHex, false},
		{"an uppercase prefix is invalid", [][]byte{secret}, body, "SHA256=" + goodHex, false},
		{"another algorithm's prefix is invalid", [][]byte{secret}, body, "sha1=" + goodHex, false},
		{"a prefix without the equals sign is invalid", [][]byte{secret}, body, "sha256" + goodHex, false},
		{"a digest one digit short is invalid", [][]byte{secret}, body, good[:len(good)-1], false},
		{"a digest one digit long is invalid", [][]byte{secret}, body, good + "0", false},
		{"a digest twice as long is invalid", [][]byte{secret}, body, good + goodHex, false},
		{"a digest of half the length is invalid", [][]byte{secret}, body, SignaturePrefix + goodHex[:32], false},
		{"a non-hex digit is invalid", [][]byte{secret}, body, good[:len(good)-1] + "z", false},
		{"base64 in place of hex is invalid", [][]byte{secret}, body, SignaturePrefix + "iRYdkyRe4N/CinNp6P8Jnp/e1OKW+1N+kkgAbQEbbF8=", false},
		{"a second value after a comma is invalid", [][]byte{secret}, body, good + "," + good, false},
		{"a signature under another secret is invalid", [][]byte{secret}, body, Sign(other, body), false},
		{"a signature of another body is invalid", [][]byte{secret}, body, Sign(secret, append([]byte(articleBody), ' ')), false},
		{"an empty secrets list accepts nothing", nil, body, good, false},
		{"an empty secret accepts nothing, not even its own signature", [][]byte{{}}, body, Sign(nil, body), false},
		{"a nil secret accepts nothing", [][]byte{nil}, body, Sign([]byte{}, body), false},
		{"the secret in place of the digest is invalid", [][]byte{secret}, body, SignaturePrefix + string(secret), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Verify(tc.secrets, tc.body, tc.header); got != tc.want {
				t.Errorf("Verify(%q) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}

// FuzzVerify checks Verify against a plain model of the scheme: a header is
// valid exactly when, white space trimmed, it is "sha256=" followed by the
// hex (any case) of the HMAC-SHA256 of body under a non-empty secret.
func FuzzVerify(f *testing.F) {
	body := []byte(articleBody)
	f.Add([]byte("whsec_current"), body, Sign([]byte("whsec_current"), body))
	f.Add([]byte("whsec_current"), body, strings.ToUpper(Sign([]byte("whsec_current"), body)))
	f.Add([]byte("whsec_current"), body, SignaturePrefix+strings.ToUpper(strings.TrimPrefix(Sign([]byte("whsec_current"), body), SignaturePrefix)))
	f.Add([]byte("whsec_current"), body, Sign([]byte("whsec_other"), body))
	f.Add([]byte(""), body, Sign(nil, body))
	f.Add([]byte("k"), []byte(""), "")
	f.Add([]byte("k"), []byte("x"), SignaturePrefix)
	f.Add([]byte("k"), []byte("x"), SignaturePrefix+strings.Repeat("g", 64))
	f.Add([]byte("k"), []byte("x"), SignaturePrefix+strings.Repeat("0", 63))
	f.Add([]byte("k"), []byte("x"), "\t"+Sign([]byte("k"), []byte("x"))+" ")
	f.Add([]byte("k"), []byte("x"), "sha256=\xff\xfe")
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		got := Verify([][]byte{secret}, body, header)

		hexPart, ok := strings.CutPrefix(strings.TrimSpace(header), SignaturePrefix)
		want := ok && len(secret) > 0 && strings.EqualFold(hexPart, strings.TrimPrefix(referenceHMAC(secret, body), SignaturePrefix))
		if got != want {
			t.Fatalf("Verify(secret %q, body %q, header %q) = %v, want %v", secret, body, header, got, want)
		}
		// Its own signature always verifies, under a non-empty secret only,
		// alone or among others.
		own := Sign(secret, body)
		if own != referenceHMAC(secret, body) {
			t.Fatalf("Sign = %s, reference = %s", own, referenceHMAC(secret, body))
		}
		if v := Verify([][]byte{[]byte("whsec_decoy"), secret}, body, own); v != (len(secret) > 0) {
			t.Fatalf("Verify of its own signature = %v with secret %q", v, secret)
		}
		if Verify(nil, body, header) {
			t.Fatal("Verify accepted a header with no secrets configured")
		}
	})
}

func TestVerifyPartsIsVerifyOfThePartsJoined(t *testing.T) {
	secret := []byte("whsec_parts_0123456789")
	body := []byte(`{"event":"document.completed","document_id":"doc_parts"}`)
	header := Sign(secret, body)
	for _, cut := range []int{0, 1, 17, len(body) - 1, len(body)} {
		parts := [][]byte{body[:cut], body[cut:]}
		if !VerifyParts([][]byte{secret}, parts, header) {
			t.Errorf("cut at %d: the parts of a signed body are refused", cut)
		}
		tampered := [][]byte{body[:cut], append([]byte(" "), body[cut:]...)}
		if VerifyParts([][]byte{secret}, tampered, header) {
			t.Errorf("cut at %d: a byte added between the parts is accepted", cut)
		}
	}
}
