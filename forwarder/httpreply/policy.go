package httpreply

import (
	"net/http"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// policy is what an HTTP status from Google means for the deliveries a
// request carried, the one table every sender follows. A status no row
// covers (1xx, an unfollowed 3xx) is unknown and retried rather than
// dropped. Whatever the row, a transient answer with a usable
// Retry-After is retried after that long, not on the schedule: Google
// says Retry-After on 429 and on 503 alike.
var policy = []struct {
	from, to int // status range, inclusive
	kind     forwarder.Kind
	why      string
}{
	{http.StatusUnauthorized, http.StatusUnauthorized, forwarder.KindTransient,
		"the credentials: a refreshed token or a fixed credentials file makes the same request good"},
	{http.StatusRequestTimeout, http.StatusRequestTimeout, forwarder.KindTransient, "Google gave up waiting"},
	{http.StatusTooManyRequests, http.StatusTooManyRequests, forwarder.KindTransient, "rate limited: worth waiting for"},
	{400, 499, forwarder.KindPermanent, "the request itself is wrong and will stay wrong"},
	{500, 599, forwarder.KindTransient, "Google's trouble"},
}

// Decision is what a reply means for the deliveries its request carried.
type Decision struct {
	Kind forwarder.Kind
	// After is how long to wait before trying again (KindRetryAfter).
	After time.Duration
}

// Decide applies the policy to a reply's status and Retry-After header.
func Decide(status int, retryAfter string, now time.Time) Decision {
	kind := forwarder.KindTransient
	for _, row := range policy {
		if status >= row.from && status <= row.to {
			kind = row.kind
			break
		}
	}
	if kind == forwarder.KindTransient {
		if after, ok := RetryAfter(retryAfter, now); ok {
			return Decision{Kind: forwarder.KindRetryAfter, After: after}
		}
	}
	return Decision{Kind: kind}
}

// Error returns err classified as d says, under code.
func (d Decision) Error(code string, err error) error {
	switch d.Kind {
	case forwarder.KindPermanent:
		return forwarder.Permanent(code, err)
	case forwarder.KindRetryAfter:
		return forwarder.RetryAfter(code, d.After, err)
	}
	return forwarder.Transient(code, err)
}
