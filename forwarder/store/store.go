// Package store defines what every storage backend keeps and the rules it
// must follow; the backends live in sub-packages (bolt, the embedded
// default) and the conformance suite every backend passes lives in
// storetest.
//
// The contract, in short:
//
//   - Accept writes the dedup mark for Call.Event and Call.Sid, the call
//     and its planned deliveries in one atomic step. A second Accept of the
//     same event and Sid within the dedup window writes nothing and returns
//     ErrDuplicate; Call.Sid names the call, so the Call.Initiate and the
//     Call.Complete of one call are each accepted once. When Accept
//     returns nil the call is durable.
//   - When the call carries a caller key (Call.History.Key), the same
//     atomic Accept records the call's time (Call.History.At) in the
//     caller's history, and PreviousCall finds the caller's latest call
//     before a given time. The key is a hash (forwarder.CallerKey): the
//     history holds no phone number. A duplicate records nothing.
//   - Claim hands out due jobs under a lease: a claimed job is invisible to
//     other claimers until the lease ends, and comes back by itself if its
//     worker dies. Ack, Retry and Bury settle a claimed job; they fail with
//     ErrLeaseLost if the lease was lost meanwhile (so a slow worker cannot
//     overwrite a newer claim's outcome). Extend keeps a claim for longer
//     under the same lease, and fails the same way.
//   - Nothing is deleted that is not settled: pending jobs stay until acked
//     or buried, dead letters until dropped or retried (a dropped one
//     leaves a tombstone, JobDropped, that Replan respects), rejected requests
//     until they age out of the retention window, caller history entries
//     until they are older than Options.CallerHistory.
//   - Every settlement (Ack, AckMany, AckPolled, Retry, Bury) stores the
//     History and Verdict of the job it is given, the history bounded to
//     MaxHistory; the store never writes history of its own. AckPolled
//     records a Data Manager request's pending poll in the same atomic
//     step as its acks; polls are claimed under a lease like jobs, are
//     never swept, and go when ResolvePoll records Google's verdicts
//     (see Diagnostics). ListCalls pages through the calls newest first,
//     examining a bounded number per page (see CallLister).
//   - A done job keeps only what is still read of its delivery
//     (DoneDelivery: the envelope and the Google Ads backend); one
//     acknowledged under a poll keeps its payload until ResolvePoll, as
//     dead and pending jobs do, since those are sent again.
//   - Every write that changes them changes the tallies (Tallies: calls
//     per hour, jobs per destination by state and outcome, dead letters
//     by reason) in the same atomic step, so they always equal a recount
//     of what the store holds; a store written before them is counted
//     once, when opened.
//
// The contract is declared once, as interfaces, in contract.go: Store is
// all of it, made of named parts (Intake, Queue, Operator) and of the
// abilities a consumer may discover by a type assertion (BatchAcker,
// CallerHistory, CommitObserver). The app and the conformance suite use
// Store; each backend asserts at compile time that it is a Store and has
// each ability it offers, so a renamed method fails the build rather than
// switching an ability off. A consumer that needs only a method or two
// (ingest, deliver, httpapi, spool) may declare its own small interface,
// but an optional ability is always asserted against the interface here.
package store

import (
	"errors"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// ErrDuplicate is returned by Accept when the call's event and Sid were
// accepted before within the dedup window. Policy: the caller answers "duplicate"
// with 200; nothing was written.
var ErrDuplicate = errors.New("store: duplicate call")

// ErrLeaseLost is returned when a job is settled with a lease that is no
// longer current (it expired and the job was claimed again, or it was
// settled already). Policy: the worker drops its result; the current
// holder of the job decides.
var ErrLeaseLost = errors.New("store: lease lost")

// ErrNotFound is returned when a named job, dead letter or call does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrInvalidCallerKey is returned by Accept and PreviousCall for a caller
// key that forwarder.CallerKey did not make (it must be a hex SHA-256, so
// that no phone number is ever stored as a key). Policy: a programming
// error; nothing was written.
var ErrInvalidCallerKey = errors.New("store: invalid caller key")

// Job is a planned delivery with its schedule.
type Job struct {
	Delivery forwarder.Delivery `json:"delivery"`
	// Attempts counts the sends tried so far.
	Attempts int `json:"attempts"`
	// DueAt is when the job is next due (while claimed: when the lease ends).
	DueAt time.Time `json:"due_at"`
	// LastError is the reason of the last failed attempt, if any.
	LastError string `json:"last_error,omitempty"`
	// Lease identifies the current claim; set by Claim, checked by Ack,
	// Retry and Bury.
	Lease string `json:"lease,omitempty"`
	// History is the job's attempts, oldest first, at most MaxHistory
	// (see Attempt).
	History []Attempt `json:"history,omitempty"`
	// Verdict is Google's final word on the delivery once
	// requestStatus:retrieve reported it (Data Manager only; see
	// Diagnostics).
	Verdict *forwarder.Verdict `json:"verdict,omitempty"`
}

// DeadLetter is a job that will not be retried by itself, with the reason.
type DeadLetter struct {
	Job    Job       `json:"job"`
	Reason string    `json:"reason"`
	Code   string    `json:"code,omitempty"`
	At     time.Time `json:"at"`
	// Kind is DeadSend ("" reads as DeadSend) or DeadProcessing.
	Kind string `json:"kind,omitempty"`
}

// Rejected is a webhook request that was refused, kept in its raw form (with
// credentials stripped) for inspection and replay.
type Rejected struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	Status      int       `json:"status"`
	Reason      string    `json:"reason"`
	Field       string    `json:"field,omitempty"`
	Method      string    `json:"method"`
	Query       string    `json:"query,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Body        []byte    `json:"body,omitempty"`
}

// Stats counts what a store holds.
type Stats struct {
	Calls    int `json:"calls"`
	Pending  int `json:"pending"`
	Done     int `json:"done"`
	Dead     int `json:"dead"`
	Rejected int `json:"rejected"`
	// EarliestDue is the earliest DueAt of the pending jobs, zero when
	// none is pending. A claimed job counts at the end of its lease, so a
	// time at or before now is when the most overdue job waiting to be
	// claimed fell due, and a later time means no job is due yet.
	EarliestDue time.Time `json:"earliest_due,omitzero"`
}

// Options are the settings every backend honours.
type Options struct {
	// DedupWindow is how long each event of a Call.Sid is remembered (default 30 days).
	DedupWindow time.Duration
	// Lease is how long a claimed job stays invisible to other claimers
	// (default 1 minute). It must exceed the longest send.
	Lease time.Duration
	// CallerHistory is how long a caller's call is remembered for
	// PreviousCall (default forwarder.MaxCallerHistoryDays days plus the
	// dedup window, so that a call arriving late still sees its whole
	// look-back).
	CallerHistory time.Duration
	// Now is the clock (default time.Now); tests replace it.
	Now func() time.Time
}

// LeaseMargin is the lease a holder must have left to start a request
// bounded by timeout, under a lease of length lease: the timeout and a
// tenth of the lease. With less, the lease may end before the request
// does, and another holder may make it too.
func LeaseMargin(timeout, lease time.Duration) time.Duration {
	return timeout + lease/10
}

// WithDefaults returns o with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.DedupWindow <= 0 {
		o.DedupWindow = 30 * 24 * time.Hour
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.CallerHistory <= 0 {
		o.CallerHistory = time.Duration(forwarder.MaxCallerHistoryDays)*24*time.Hour + o.DedupWindow
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// CallerToRecord returns the caller key and time Accept records for call,
// or ok false when the call carries no caller key. err is
// ErrInvalidCallerKey when the key is not one forwarder.CallerKey makes;
// Accept then refuses the call. A zero History.At stands for now.
func CallerToRecord(call *forwarder.Call, now time.Time) (key string, at time.Time, ok bool, err error) {
	h := call.History
	if h == nil || h.Key == "" {
		return "", time.Time{}, false, nil
	}
	if !forwarder.ValidCallerKey(h.Key) {
		return "", time.Time{}, false, ErrInvalidCallerKey
	}
	at = h.At
	if at.IsZero() {
		at = now
	}
	return h.Key, at, true, nil
}

// JobState is where a job stands.
type JobState string

// The states of a job.
const (
	JobPending JobState = "pending"
	JobDone    JobState = "done"
	JobDead    JobState = "dead"
	// JobDropped is the tombstone of a dead letter dropped by DropDead: a
	// decision not to deliver, kept for the dedup window from the drop
	// (like a done mark) so that neither Replan nor an Accept of the call
	// plans the delivery again, unless ReplanOptions.IncludeDropped says
	// so.
	JobDropped JobState = "dropped"
)

// ReplanOptions tune Replan.
type ReplanOptions struct {
	// IncludeDropped makes Replan replace the tombstones of dropped dead
	// letters (JobDropped) with new pending jobs; without it they are
	// left alone like every other existing job.
	IncludeDropped bool
}

// JobInfo is a job of a call with its state, as Jobs reports it.
type JobInfo struct {
	Job   Job      `json:"job"`
	State JobState `json:"state"`
	// Kind is the dead letter's kind, as DeadLetter.Kind, for a dead job
	// and for the tombstone of a dropped one: DeadProcessing for those
	// ResolvePoll made, "" (DeadSend) for the others and for every job
	// in another state.
	Kind string `json:"kind,omitempty"`
}
