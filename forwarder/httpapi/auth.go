package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
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

// match returns the index of candidate in the set, or -1. It compares
// against every token, in constant time, without stopping early, so the
// time taken tells nothing about which token (if any) matched.
func (ts tokenSet) match(candidate string) int {
	if candidate == "" {
		return -1
	}
	d := sha256.Sum256([]byte(candidate))
	idx := -1
	for i := range ts {
		idx = subtle.ConstantTimeSelect(subtle.ConstantTimeCompare(d[:], ts[i][:]), i, idx)
	}
	return idx
}

// valid reports whether candidate is one of the tokens.
func (ts tokenSet) valid(candidate string) bool { return ts.match(candidate) >= 0 }

// requestToken returns the credential a request carries: the basic-auth
// password, a Bearer token, or the token query parameter, in that order.
// A token in the body is not a credential.
func requestToken(r *http.Request) string {
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return r.URL.Query().Get(tokenParam)
}

// tokenParam is the query parameter that may carry the token.
const tokenParam = "token"

// stripToken removes the token parameter from a raw query, so a kept
// request never holds the credential and the GET signature covers the
// parameters only. A name is compared after percent-decoding, as the
// query parser sees it ("tok%65n" is the token parameter too); everything
// else is kept byte for byte.
func stripToken(rawQuery string) string {
	if rawQuery == "" {
		return rawQuery
	}
	parts := strings.Split(rawQuery, "&")
	kept := parts[:0]
	for _, p := range parts {
		name, _, _ := strings.Cut(p, "=")
		if name == tokenParam {
			continue
		}
		if strings.ContainsAny(name, "%+") {
			if n, err := url.QueryUnescape(name); err == nil && n == tokenParam {
				continue
			}
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "&")
}
