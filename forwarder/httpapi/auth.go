package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// tokenSet holds the webhook tokens that are valid at once (more than one
// during a rotation), as SHA-256 digests so that every comparison takes
// the same time whatever the length of the candidate.
type tokenSet [][sha256.Size]byte

func newTokenSet(tokens []string) tokenSet {
	var ts tokenSet
	for _, t := range tokens {
		if t != "" {
			ts = append(ts, sha256.Sum256([]byte(t)))
		}
	}
	return ts
}

// valid reports whether candidate is one of the tokens. It compares
// against every token, in constant time, without stopping early.
func (ts tokenSet) valid(candidate string) bool {
	if candidate == "" {
		return false
	}
	d := sha256.Sum256([]byte(candidate))
	ok := 0
	for i := range ts {
		ok |= subtle.ConstantTimeCompare(d[:], ts[i][:])
	}
	return ok == 1
}

// requestToken returns the credential a request carries: the basic-auth
// password, a Bearer token, or the token query parameter, in that order.
func requestToken(r *http.Request) string {
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return r.URL.Query().Get("token")
}

// stripToken removes the token parameter from a raw query, so a kept
// request never holds the credential.
func stripToken(rawQuery string) string {
	if !strings.Contains(rawQuery, "token") {
		return rawQuery
	}
	parts := strings.Split(rawQuery, "&")
	kept := parts[:0]
	for _, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		if name == "token" {
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}
