// Package httpreply reads the replies of the HTTP APIs the senders call
// (GA4, Universal Analytics, Google Ads): it classifies a non-2xx reply
// into the forwarder's failure kinds, parses Retry-After, quotes a short
// excerpt of a body for an error text, and drains bodies so connections
// are reused. One policy for every sender: the table in policy.go.
package httpreply

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callforward/callforward/forwarder"
)

const (
	// drainLimit bounds what is read of a reply nobody needs, so that a
	// connection can be reused without reading an endless body.
	drainLimit = 64 << 10
	// excerptBytes and excerptRunes bound the reply text kept in an error.
	excerptBytes = 1 << 10
	excerptRunes = 200
)

// Classify maps a non-2xx reply to a classified error, by the policy
// (see Decide). scrub removes personal values from the body excerpt
// quoted in the error of a permanent failure (nil: quote as is).
func Classify(op string, resp *http.Response, scrub func(string) string, now time.Time) error {
	if scrub == nil {
		scrub = func(s string) string { return s }
	}
	d := Decide(resp.StatusCode, resp.Header.Get("Retry-After"), now)
	code := fmt.Sprintf("http_%d", resp.StatusCode)
	var err error
	switch d.Kind {
	case forwarder.KindPermanent:
		err = fmt.Errorf("%s: %s: %s", op, resp.Status, scrub(Excerpt(resp.Body)))
	case forwarder.KindRetryAfter:
		err = fmt.Errorf("%s: %s, retry after %s", op, resp.Status, d.After)
	default:
		err = fmt.Errorf("%s: %s", op, resp.Status)
	}
	return d.Error(code, err)
}

// RetryAfter parses a Retry-After header: delay seconds or an HTTP date.
// A date in the past gives 0. ok is false when the header is absent or
// unreadable.
func RetryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// Excerpt returns the start of a reply body on one line, for an error text.
func Excerpt(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, excerptBytes))
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "?")), " ")
	if utf8.RuneCountInString(s) > excerptRunes {
		s = string([]rune(s)[:excerptRunes]) + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// DrainClose reads what is left of a reply, within drainLimit, and closes
// it so the connection goes back to the pool.
func DrainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainLimit))
	_ = body.Close()
}

// Do sends req with client and applies the reply policy: a 2xx body goes
// to onOK; a transport failure is Transient ("canceled" when ctx ended,
// "network" otherwise, its text passed through scrubErr); anything else
// is classified by Classify (its body excerpt through scrub). The body is
// always drained and closed. scrub and scrubErr may be nil.
func Do(ctx context.Context, client *http.Client, req *http.Request, op string, scrub func(string) string, scrubErr func(error) error, now time.Time, onOK func(io.Reader) error) error {
	resp, err := client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return forwarder.Transient("canceled", fmt.Errorf("%s: %w", op, ctxErr))
		}
		if scrubErr != nil {
			err = scrubErr(err)
		}
		return forwarder.Transient("network", fmt.Errorf("%s: %w", op, err))
	}
	defer DrainClose(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return onOK(resp.Body)
	}
	return Classify(op, resp, scrub, now)
}
