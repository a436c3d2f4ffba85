package docuparse

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SignaturePrefix starts every X-DocuParse-Signature value.
const SignaturePrefix = "sha256="

// Sign returns the X-DocuParse-Signature header value for body under secret:
// "sha256=" followed by the lowercase hex HMAC-SHA256 of the raw bytes.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return SignaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is a valid signature of body under any of
// secrets. The comparison is constant-time (hmac.Equal) over the decoded
// digest; a malformed header is simply invalid. It never says which secret
// matched or what was expected, so nothing about a secret can leak.
func Verify(secrets [][]byte, body []byte, header string) bool {
	return VerifyParts(secrets, [][]byte{body}, header)
}

// VerifyParts is Verify for a body held in consecutive parts (as a reader
// that takes it in chunks holds it): the signature covers the parts joined,
// without joining them.
func VerifyParts(secrets [][]byte, parts [][]byte, header string) bool {
	hexDigest, ok := strings.CutPrefix(strings.TrimSpace(header), SignaturePrefix)
	if !ok || len(hexDigest) != 2*sha256.Size {
		return false
	}
	got, err := hex.DecodeString(strings.ToLower(hexDigest))
	if err != nil {
		return false
	}
	valid := false
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		m := hmac.New(sha256.New, s)
		for _, p := range parts {
			m.Write(p)
		}
		// Check every secret, even after a match, so timing does not reveal
		// which secret of the rotation set is in use.
		if hmac.Equal(got, m.Sum(nil)) {
			valid = true
		}
	}
	return valid
}
