// Package diagnose turns Google's processing reports into one outcome per
// delivery: Data Manager answers events:ingest at once with a request id
// and processes the events afterwards (30 minutes to 24 hours), so a 200
// is not yet a counted conversion. This package holds the vocabulary of
// outcomes, the schedule on which a request's status is asked for, and
// the reading of requestStatus:retrieve's answer.
package diagnose

import (
	"strings"
)

// Outcome is what became of one delivery at Google.
type Outcome string

// The outcomes, one vocabulary for every destination.
const (
	// Awaiting: Google accepted the request and has not reported on its
	// processing yet.
	Awaiting Outcome = "awaiting"
	// Counted: Google processed the conversion (or already had it).
	Counted Outcome = "counted"
	// Rejected: Google refused the conversion in processing; Verdict.Reason
	// says why.
	Rejected Outcome = "rejected"
	// Unknown: Google did not report on the request before the schedule
	// gave up asking.
	Unknown Outcome = "unknown"
	// Sent: the destination reports nothing after accepting a hit (GA4,
	// Universal Analytics); the hit was sent and that is all anyone knows.
	Sent Outcome = "sent"
)

// Final reports whether o will not change any more.
func (o Outcome) Final() bool { return o != Awaiting && o != "" }

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
	case Rejected:
		b.WriteString("rejected by Google")
		if v.Reason != "" {
			b.WriteString(": " + v.Reason)
		}
	case Sent:
		b.WriteString("sent (no processing report from this destination)")
	case "":
		b.WriteString(string(Awaiting))
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

// reasonPrefixes are stripped from Google's reason codes; what is left is
// the part a person recognises from Google Ads' own diagnostics.
var reasonPrefixes = []string{"PROCESSING_ERROR_REASON_", "PROCESSING_ERROR_"}

// ShortReason is Google's reason code without its enum prefix.
func ShortReason(reason string) string {
	for _, p := range reasonPrefixes {
		if r, ok := strings.CutPrefix(reason, p); ok {
			return r
		}
	}
	return reason
}

// alreadyCounted are the processing reasons that mean Google already holds
// the conversion: a retry after a lost reply, or the same call sent twice
// by the platform. They are Counted, not Rejected.
var alreadyCounted = map[string]bool{
	"DUPLICATE_TRANSACTION_ID": true,
	"DUPLICATE_GCLID":          true,
}
