package forwarder

import (
	"strings"
)

// Outcome is what became of one delivery at Google. Google's Data Manager
// answers events:ingest at once and processes the events afterwards (30
// minutes to 24 hours), so an accepted request is not yet a counted
// conversion: package diagnose asks Google and settles the outcome.
type Outcome string

// The outcomes, one vocabulary for every destination.
const (
	// OutcomeAwaiting: Google accepted the request and has not reported on its
	// processing yet.
	OutcomeAwaiting Outcome = "awaiting"
	// OutcomeCounted: Google processed the conversion (or already had it).
	OutcomeCounted Outcome = "counted"
	// OutcomeRejected: Google refused the conversion in processing; Verdict.Reason
	// says why.
	OutcomeRejected Outcome = "rejected"
	// OutcomeUnknown: Google did not report on the request before the schedule
	// gave up asking.
	OutcomeUnknown Outcome = "unknown"
	// OutcomeSent: the destination reports nothing after accepting a hit (GA4,
	// Universal Analytics); the hit was sent and that is all anyone knows.
	OutcomeSent Outcome = "sent"
)

// Final reports whether o will not change any more.
func (o Outcome) Final() bool { return o != OutcomeAwaiting && o != "" }

// Verdict is one delivery's outcome with Google's reason and, where the
// outcome was inferred rather than reported for this delivery, a note
// saying how.
type Verdict struct {
	Outcome Outcome `json:"outcome"`
	// Reason is Google's reason code, without its PROCESSING_ERROR_REASON_
	// prefix (e.g. EXPIRED_CLICK), for Rejected and for a Counted that
	// Google reported as a duplicate.
	Reason string `json:"reason,omitempty"`
	// Note explains an inferred outcome, e.g. that Google's counts carried
	// no record indices and were applied to every event of the request.
	Note string `json:"note,omitempty"`
}

// String is the verdict as a person reads it, e.g. "rejected by Google:
// EXPIRED_CLICK".
func (v Verdict) String() string {
	var b strings.Builder
	switch v.Outcome {
	case OutcomeRejected:
		b.WriteString("rejected by Google")
		if v.Reason != "" {
			b.WriteString(": " + v.Reason)
		}
	case OutcomeSent:
		b.WriteString("sent (no processing report from this destination)")
	case "":
		b.WriteString(string(OutcomeAwaiting))
	default:
		b.WriteString(string(v.Outcome))
		if v.Reason != "" {
			b.WriteString(" (" + v.Reason + ")")
		}
	}
	if v.Note != "" {
		b.WriteString("; " + v.Note)
	}
	return b.String()
}
