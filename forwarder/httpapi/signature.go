package httpapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// DefaultSignatureHeader carries the body signature when
// Config.SignatureHeader is empty.
const DefaultSignatureHeader = "X-Signature-SHA256"

// signature checks the HMAC-SHA256 a sender computes over what it sends.
//
// The signed message is the part of the request the parameters are
// decoded from:
//
//   - a POST with a body: the raw body, byte for byte;
//   - a GET, or a POST whose body is empty or only whitespace (the
//     parameters then come from the query string): the raw query string as
//     sent, without the token parameter, which is usually appended after
//     signing. "a=1&token=T&b=2" is checked as "a=1&b=2".
//
// The header holds the MAC in hex, optionally prefixed "sha256=" (as
// GitHub and others send it). A POST with a body may not carry query
// parameters other than the token: they would be decoded but not signed,
// so such a request is refused rather than partly trusted.
//
// There is no timestamp in the message, so a signature does not stop the
// replay of a captured request; the dedup by Call.Sid makes a replay a
// duplicate.
type signature struct {
	secret []byte
	header string
}

// verify returns "" when the request is correctly signed, or why not.
func (s signature) verify(r *http.Request, body []byte) string {
	values := r.Header.Values(s.header)
	switch len(values) {
	case 0:
		return "missing " + s.header + " header: the hex HMAC-SHA256 of the request body (of the query string without token for GET)"
	case 1:
	default:
		return s.header + " header given more than once"
	}
	got, ok := parseSignature(values[0])
	if !ok {
		return s.header + " header is not a hex HMAC-SHA256 (64 hex digits, optionally prefixed sha256=)"
	}
	query := stripToken(r.URL.RawQuery)
	msg := body
	if r.Method == http.MethodGet || len(bytes.TrimSpace(body)) == 0 {
		msg = []byte(query)
	} else if query != "" {
		return "query parameters are not covered by the " + s.header + " signature of a POST body: send them in the body"
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write(msg)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return s.header + " does not match the request: want the hex HMAC-SHA256 of the raw body (of the query string without token for GET)"
	}
	return ""
}

// parseSignature decodes a hex MAC, optionally prefixed "sha256=".
func parseSignature(v string) ([]byte, bool) {
	v = strings.TrimSpace(v)
	if len(v) >= 7 && strings.EqualFold(v[:7], "sha256=") {
		v = v[7:]
	}
	if len(v) != 2*sha256.Size {
		return nil, false
	}
	sum, err := hex.DecodeString(v)
	return sum, err == nil
}
