package ua

import (
	"net/url"
	"strings"
)

const redacted = "<redacted>"

// redactor keeps the client id of one hit out of error texts. The protocol
// has no secret, and the client id travels in the body, never in a URL, so
// only reply excerpts (which may echo the body) need scrubbing.
type redactor struct {
	clientID string
}

// string replaces the client id, plain or form-escaped, in s.
func (r redactor) string(s string) string {
	if r.clientID == "" {
		return s
	}
	for _, v := range []string{r.clientID, url.QueryEscape(r.clientID)} {
		s = strings.ReplaceAll(s, v, redacted)
	}
	return s
}
