package httpapi

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// tokenLimits is a token bucket per configured webhook token, indexed by
// the token's position in the tokenSet: the set of keys is fixed when the
// handler is built, so the table never grows and never holds a credential.
// Without authentication every request shares one bucket.
type tokenLimits []*rate.Limiter

// newTokenLimits returns nil (no limit) when perSecond is not positive.
func newTokenLimits(perSecond float64, burst, keys int) tokenLimits {
	if !(perSecond > 0) || math.IsInf(perSecond, 1) {
		return nil
	}
	if burst <= 0 {
		burst = defaultBurst(perSecond)
	}
	keys = max(keys, 1)
	l := make(tokenLimits, keys)
	for i := range l {
		l[i] = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return l
}

// defaultBurst is one second's worth of requests, at least one.
func defaultBurst(perSecond float64) int {
	return int(min(math.Ceil(perSecond), math.MaxInt32))
}

// allow takes one request from key's bucket. When the bucket is empty it
// takes nothing and says how long until it holds a request again.
func (l tokenLimits) allow(key int, now time.Time) (wait time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	lim := l[max(key, 0)%len(l)]
	if lim.AllowN(now, 1) {
		return 0, true
	}
	secs := (1 - lim.TokensAt(now)) / float64(lim.Limit())
	return time.Duration(min(secs, maxWait.Seconds()) * float64(time.Second)), false
}

// maxWait bounds the wait announced for very low rates.
const maxWait = 24 * time.Hour

// retryAfter renders a wait as whole seconds for the Retry-After header,
// rounded up and at least 1.
func retryAfter(wait time.Duration) int64 {
	s := int64(math.Ceil(wait.Seconds()))
	return max(s, 1)
}
