// Package store defines what every storage backend keeps and the rules it
// must follow; the backends live in sub-packages (bolt, the embedded
// default) and the conformance suite every backend passes lives in
// storetest.
//
// The contract, in short:
//
//   - Accept writes the dedup mark for Call.Sid, the call and its planned
//     deliveries in one atomic step. A second Accept of the same Sid within
//     the dedup window writes nothing and returns ErrDuplicate. When Accept
//     returns nil the call is durable.
//   - Claim hands out due jobs under a lease: a claimed job is invisible to
//     other claimers until the lease ends, and comes back by itself if its
//     worker dies. Ack, Retry and Bury settle a claimed job; they fail with
//     ErrLeaseLost if the lease was lost meanwhile (so a slow worker cannot
//     overwrite a newer claim's outcome).
//   - Nothing is deleted that is not settled: pending jobs stay until acked
//     or buried, dead letters until dropped or retried, rejected requests
//     until they age out of the retention window.
//
// Interfaces over these types are declared by their users (ingest, deliver,
// httpapi, app), each with the few methods it needs.
package store

import (
	"errors"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// ErrDuplicate is returned by Accept when the call's Sid was accepted
// before within the dedup window. Policy: the caller answers "duplicate"
// with 200; nothing was written.
var ErrDuplicate = errors.New("store: duplicate call")

// ErrLeaseLost is returned when a job is settled with a lease that is no
// longer current (it expired and the job was claimed again, or it was
// settled already). Policy: the worker drops its result; the current
// holder of the job decides.
var ErrLeaseLost = errors.New("store: lease lost")

// ErrNotFound is returned when a named job, dead letter or call does not exist.
var ErrNotFound = errors.New("store: not found")

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
}

// DeadLetter is a job that will not be retried by itself, with the reason.
type DeadLetter struct {
	Job    Job       `json:"job"`
	Reason string    `json:"reason"`
	Code   string    `json:"code,omitempty"`
	At     time.Time `json:"at"`
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
}

// Options are the settings every backend honours.
type Options struct {
	// DedupWindow is how long a Call.Sid is remembered (default 30 days).
	DedupWindow time.Duration
	// Lease is how long a claimed job stays invisible to other claimers
	// (default 1 minute). It must exceed the longest send.
	Lease time.Duration
	// Now is the clock (default time.Now); tests replace it.
	Now func() time.Time
}

// WithDefaults returns o with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.DedupWindow <= 0 {
		o.DedupWindow = 30 * 24 * time.Hour
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// JobState is where a job stands.
type JobState string

// The states of a job.
const (
	JobPending JobState = "pending"
	JobDone    JobState = "done"
	JobDead    JobState = "dead"
)

// JobInfo is a job of a call with its state, as Jobs reports it.
type JobInfo struct {
	Job   Job      `json:"job"`
	State JobState `json:"state"`
}
