package ga4

import (
	"net/url"
	"strings"
)

const redacted = "<redacted>"

// redactor keeps the API secret and the client id of one request out of
// error texts.
type redactor struct {
	secret   string
	clientID string
}

// string replaces the secret (plain or URL-escaped) and the client id in s.
func (r redactor) string(s string) string {
	for _, v := range []string{r.secret, url.QueryEscape(r.secret), r.clientID} {
		if v != "" {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}

// error returns err with the query removed from the URL of a *url.Error
// (the query holds the secret) and, should the text still hold the secret
// or the client id, with a scrubbed text. The returned error still unwraps
// to err's cause, so errors.Is and errors.As keep working.
func (r redactor) error(err error) error {
	if ue, ok := err.(*url.Error); ok {
		err = &url.Error{Op: ue.Op, URL: stripQuery(ue.URL), Err: ue.Err}
	}
	if msg := err.Error(); r.string(msg) != msg {
		return &scrubbedError{msg: r.string(msg), err: err}
	}
	return err
}

// stripQuery returns raw without its query and fragment.
func stripQuery(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}

// scrubbedError shows a redacted text for an error whose own text held a
// secret.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
