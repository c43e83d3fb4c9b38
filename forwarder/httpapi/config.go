package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Config configures the handler. The zero value of every optional field
// turns its feature off or takes its default.
type Config struct {
	// Tokens are the webhook tokens accepted (several during rotation).
	Tokens []string
	// NoAuth accepts requests without a token. Only for local testing.
	NoAuth bool
	// MaxBody bounds a request body (default DefaultMaxBody).
	MaxBody int64
	Logger  *slog.Logger

	// MaxInFlight bounds the webhooks that are read, decoded and stored at
	// once (default DefaultMaxInFlight), and with MaxBody the memory they
	// hold: an authenticated request past it waits for a turn, at most
	// InFlightWait (default DefaultInFlightWait), then gets 503 with
	// Retry-After. The turn is taken before the body is read.
	MaxInFlight  int
	InFlightWait time.Duration

	// SignatureSecret, when not empty, requires every webhook to carry the
	// HMAC-SHA256 of its body (of its query string without the token for a
	// GET) under this key, in SignatureHeader. It applies in addition to
	// the token. See signature for the exact message signed.
	SignatureSecret []byte
	// SignatureHeader names the header holding the signature (default
	// DefaultSignatureHeader).
	SignatureHeader string

	// AllowCIDRs, when not empty, limits the webhook endpoint to clients
	// whose address is in one of these networks; others get 403. The
	// probes are not limited, so an orchestrator can reach them.
	AllowCIDRs []netip.Prefix
	// TrustedProxies are the networks of the reverse proxies in front of
	// the service. Only a request from one of them has its client address
	// taken from X-Forwarded-For (the right-most entry that is not itself a
	// trusted proxy); anyone else's X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix

	// RateLimit bounds the webhooks accepted per second for each token (all
	// requests share one budget with NoAuth); 0 turns the limit off.
	// A request over it gets 429 with Retry-After, before its body is read.
	RateLimit float64
	// RateBurst is how many requests a token may send at once (default: one
	// second's worth of RateLimit, at least 1).
	RateBurst int

	// Checks are reported by /readyz without failing it: they concern
	// delivery (e.g. Google credentials), while intake still works, so the
	// instance must keep taking webhooks; /readyz then says "degraded" and
	// why.
	Checks []Check

	// Drops counts the optional fields left out of stored calls; nil:
	// not counted.
	Drops DropCounter

	// TracerProvider, when set, traces each webhook (see the package
	// comment); nil turns tracing off at no cost.
	TracerProvider trace.TracerProvider
}

// Check is a named health check that degrades, but does not fail, readiness.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Validate reports every setting that New would otherwise have to ignore
// or reinterpret, so that a command line can reject it.
func (c Config) Validate() error {
	var errs []error
	if c.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("max body %d: must not be negative", c.MaxBody))
	}
	if c.MaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("max in flight %d: must not be negative", c.MaxInFlight))
	}
	if c.InFlightWait < 0 {
		errs = append(errs, fmt.Errorf("in-flight wait %v: must not be negative", c.InFlightWait))
	}
	if math.IsNaN(c.RateLimit) || math.IsInf(c.RateLimit, 0) || c.RateLimit < 0 {
		errs = append(errs, fmt.Errorf("rate limit %v: must be a non-negative number of requests per second", c.RateLimit))
	}
	if c.RateBurst < 0 {
		errs = append(errs, fmt.Errorf("rate burst %d: must not be negative", c.RateBurst))
	}
	if c.SignatureHeader != "" && !isHeaderName(c.SignatureHeader) {
		errs = append(errs, fmt.Errorf("signature header %q: not a valid header name", c.SignatureHeader))
	}
	if c.SignatureHeader != "" && len(c.SignatureSecret) == 0 {
		errs = append(errs, errors.New("signature header set without a signature secret"))
	}
	for _, p := range c.AllowCIDRs {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("allowed network %v: not a valid CIDR prefix", p))
		}
	}
	for _, p := range c.TrustedProxies {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("trusted proxy network %v: not a valid CIDR prefix", p))
		}
	}
	return errors.Join(errs...)
}

// isHeaderName reports whether s is an HTTP field name (RFC 9110 token).
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
