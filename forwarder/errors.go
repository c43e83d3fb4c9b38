package forwarder

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies a failed send. Senders only classify; the deliverer owns
// the retry policy (see package deliver).
type Kind int

// The kinds of failure a sender reports.
const (
	// KindTransient: retry on the backoff schedule (network errors, 5xx,
	// 429 without a hint).
	KindTransient Kind = iota
	// KindRetryAfter: retry no earlier than the time the remote named
	// (Retry-After, Google's "too recent" errors).
	KindRetryAfter
	// KindPermanent: retrying cannot help (invalid payload, expired event,
	// wrong configuration); the delivery is dead-lettered with the reason.
	KindPermanent
)

func (k Kind) String() string {
	switch k {
	case KindTransient:
		return "transient"
	case KindRetryAfter:
		return "retry_after"
	case KindPermanent:
		return "permanent"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// SendError is a classified delivery failure. Code is a short machine
// reason (an HTTP status or Google's error code) safe for logs and metrics.
type SendError struct {
	Kind  Kind
	Code  string
	After time.Duration // with KindRetryAfter: the wait the remote asked for
	Err   error
	// Rejected: Google's reply refused this conversion (KindPermanent,
	// Code is Google's error code), as opposed to a local check or a
	// failure of the request as a whole. Its outcome is rejected.
	Rejected bool
}

func (e *SendError) Error() string {
	msg := e.Kind.String()
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *SendError) Unwrap() error { return e.Err }

// Permanent wraps err as a failure that retrying cannot fix.
func Permanent(code string, err error) error {
	return &SendError{Kind: KindPermanent, Code: code, Err: err}
}

// Rejected wraps err as a conversion Google's reply refused for good, with
// Google's error code: a permanent failure whose outcome is rejected.
func Rejected(code string, err error) error {
	return &SendError{Kind: KindPermanent, Code: code, Err: err, Rejected: true}
}

// Verdict is the outcome a failed send settles: rejected with Google's
// code when Google's reply refused the conversion, else nil (a failure
// Google never judged has no outcome).
func (e *SendError) Verdict() *Verdict {
	if !e.Rejected {
		return nil
	}
	return &Verdict{Outcome: OutcomeRejected, Reason: e.Code}
}

// Transient wraps err as a failure worth retrying on the backoff schedule.
func Transient(code string, err error) error {
	return &SendError{Kind: KindTransient, Code: code, Err: err}
}

// RetryAfter wraps err as a failure to retry no earlier than after d.
func RetryAfter(code string, d time.Duration, err error) error {
	return &SendError{Kind: KindRetryAfter, Code: code, After: d, Err: err}
}

// Classify returns the SendError in err's chain, or a transient one
// wrapping err when the sender did not classify it: an unknown failure is
// retried, never dropped.
func Classify(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Kind: KindTransient, Code: "unclassified", Err: err}
}
