package store

import (
	"context"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// MaxHistory bounds Job.History: the oldest attempts go first.
const MaxHistory = 20

// Attempt is one send of a delivery as its worker saw it. The worker
// appends it to Job.History before it settles the job (Ack, AckMany,
// AckPolled, Retry, Bury), and the backend stores the history it is given
// with the settlement.
type Attempt struct {
	At   time.Time     `json:"at"`
	Took time.Duration `json:"took"`
	// Result is AttemptDelivered, AttemptRetry or AttemptDead.
	Result string `json:"result"`
	// Code is Google's error code (e.g. RESOURCE_EXHAUSTED, HTTP_503).
	Code string `json:"code,omitempty"`
	// Error is Google's answer (or the transport's error), without
	// personal data: the senders redact it.
	Error string `json:"error,omitempty"`
	// RequestID is the Data Manager request id of the request that
	// carried the delivery, when Google accepted it.
	RequestID string `json:"request_id,omitempty"`
}

// The results of an Attempt.
const (
	AttemptDelivered = "delivered"
	AttemptRetry     = "retry"
	AttemptDead      = "dead"
)

// AppendAttempt returns h with a appended, bounded to MaxHistory.
func AppendAttempt(h []Attempt, a Attempt) []Attempt {
	return BoundHistory(append(h, a))
}

// The kinds of dead letter (DeadLetter.Kind).
const (
	// DeadSend: the send failed for good (the default, "").
	DeadSend = "send"
	// DeadProcessing: Google accepted the request and rejected the
	// conversion when it processed it (reported by requestStatus:retrieve).
	DeadProcessing = "processing"
)

// Poll is a Data Manager request Google accepted and has not yet reported
// on: the diagnostics worker asks requestStatus:retrieve about it until
// every delivery it carried has an outcome.
type Poll struct {
	// RequestID is the requestId events:ingest answered.
	RequestID string `json:"request_id"`
	// Items are the deliveries the request carried.
	Items []PollItem `json:"items"`
	// SentAt is when Google accepted the request.
	SentAt time.Time `json:"sent_at"`
	// DueAt is when the poll is next due (while claimed: when its lease
	// ends).
	DueAt time.Time `json:"due_at"`
	// Polls counts the polls made so far; LastPoll is the latest.
	Polls    int       `json:"polls"`
	LastPoll time.Time `json:"last_poll,omitzero"`
	// LastAnswer is what the latest poll got (a status or an error),
	// without personal data.
	LastAnswer string `json:"last_answer,omitempty"`
	// Lease identifies the current claim; set by ClaimPolls.
	Lease string `json:"lease,omitempty"`
}

// PollItem is one delivery of a polled request.
type PollItem struct {
	DeliveryID string `json:"delivery_id"`
	// Index is the delivery's position in the request's events[].
	Index int `json:"index"`
	// Dest is the position of its destination in the request's
	// destinations[].
	Dest int `json:"dest"`
}

// PollStats counts the polls pending.
type PollStats struct {
	Pending int `json:"pending"`
	// OldestSentAt is the SentAt of the oldest pending poll (zero when
	// none is pending).
	OldestSentAt time.Time `json:"oldest_sent_at,omitzero"`
}

// Diagnostics keeps Data Manager requests until Google reports on their
// processing, and each delivery's final outcome.
//
//   - AckPolled acknowledges the jobs of a batch Google accepted, like
//     AckMany, and records p in the same atomic step, with only the items
//     whose job it acknowledged (none acknowledged: no poll), due at
//     p.DueAt. A crash can never leave an acknowledged Data Manager
//     delivery without its pending poll.
//   - ClaimPolls hands out polls due now under a lease, like Claim: a
//     claimed poll is invisible to other claimers (other instances on one
//     Redis) until its lease ends, and comes back by itself if its worker
//     dies.
//   - ReschedulePoll stores p's Polls, LastPoll and LastAnswer and makes
//     it due at due; ResolvePoll records one verdict per item (aligned
//     with p.Items) on each delivery's job (Job.Verdict), turns a
//     delivery Google rejected into a dead letter of kind DeadProcessing
//     (reason "rejected by Google: REASON", code REASON), and forgets the
//     poll. Both return ErrLeaseLost when p.Lease is not current.
//
// A delivery whose job was retried or re-planned since (RetryDead,
// Replan) keeps the newer state: ResolvePoll records the verdict only on a
// job still done by the request polled.
type Diagnostics interface {
	AckPolled(ctx context.Context, jobs []Job, p Poll) []error
	ClaimPolls(ctx context.Context, max int) ([]Poll, error)
	ReschedulePoll(ctx context.Context, p Poll, due time.Time) error
	ResolvePoll(ctx context.Context, p Poll, verdicts []forwarder.Verdict) error
	PollStats(ctx context.Context) (PollStats, error)
}

// CallFilter selects calls for ListCalls; zero fields select everything.
type CallFilter struct {
	// Since and Until bound the time the call was (last) accepted.
	Since, Until time.Time
	// State keeps calls with at least one delivery in that state:
	// "pending", "dead", "rejected" (rejected by Google in processing),
	// "counted", "awaiting", "done".
	State string
	// Rule and Destination keep calls with a delivery of that rule or to
	// that destination.
	Rule, Destination string
	// Sid keeps the calls whose Sid starts with it.
	Sid string
}

// CallSummary is a call as ListCalls reports it.
type CallSummary struct {
	Sid   string          `json:"sid"`
	Event forwarder.Event `json:"event"`
	// At is when the call was (last) accepted.
	At   time.Time `json:"at"`
	Jobs []JobInfo `json:"jobs"`
}

// CallLister lists calls newest first, a page at a time. cursor is ""
// for the first page and the returned next for the following ones (""
// when there is no more). A page examines a bounded number of calls
// (a few times limit), so a selective filter can return a short or empty
// page with a next cursor: the caller keeps asking while next is not "".
type CallLister interface {
	ListCalls(ctx context.Context, f CallFilter, cursor string, limit int) (calls []CallSummary, next string, err error)
}
