package store

import (
	"context"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// Store is the whole contract of a storage backend: everything the
// forwarder and its operator commands ask of it. Every backend in
// forwarder/store has all of it and passes the conformance suite
// (forwarder/store/storetest), which exercises a Store.
//
// It is made of named parts so that a consumer can ask for the part it
// uses, and so that an ability a consumer discovers at run time (a type
// assertion to BatchAcker, CallerHistory or CommitObserver) is checked
// against the one declaration here: each backend asserts at compile time
// that it has every ability it offers, so a renamed method fails the build
// instead of silently switching the ability off.
type Store interface {
	Intake
	Queue
	BatchAcker
	CallerHistory
	Operator
	Diagnostics
	CallLister
	Tallier

	// Ping reports whether the store can take writes.
	Ping(ctx context.Context) error
	// Stats counts what the store holds.
	Stats(ctx context.Context) (Stats, error)
	// Sweep deletes what has outlived its retention and returns how many
	// records went (and prunes the hours of the tallies older than
	// TallyKeep).
	Sweep(ctx context.Context) (int, error)
	// Close releases the store.
	Close() error
}

// Intake takes webhooks in.
type Intake interface {
	// Accept stores a call and its planned deliveries atomically, or
	// returns ErrDuplicate for an event of a Sid it holds (see the package
	// comment).
	Accept(ctx context.Context, call *forwarder.Call, deliveries []forwarder.Delivery) error
	// Reject keeps a refused request for inspection.
	Reject(ctx context.Context, r Rejected) error
}

// Queue hands due jobs out under a lease and settles them.
type Queue interface {
	// Claim takes up to max due jobs under a lease.
	Claim(ctx context.Context, max int) ([]Job, error)
	// Ack records that j was delivered.
	Ack(ctx context.Context, j Job) error
	// Retry makes j due again at at, with the reason of its failure.
	Retry(ctx context.Context, j Job, at time.Time, reason string) error
	// Bury makes j a dead letter.
	Bury(ctx context.Context, j Job, reason, code string) error
	// Extend renews the leases of jobs its caller holds to d from now,
	// for each job whose lease is still current (one result per job:
	// nil, or an error wrapping ErrLeaseLost); it never shortens a lease.
	Extend(ctx context.Context, jobs []Job, d time.Duration) []error
}

// BatchAcker acknowledges many jobs in one store operation (one
// transaction, one script run): the jobs of a batch that Google accepted
// are acknowledged together. AckMany returns one error per job,
// index-aligned: nil, an error wrapping ErrLeaseLost, or the failure of
// the operation. The delivery workers use it when their queue has it.
type BatchAcker interface {
	AckMany(ctx context.Context, jobs []Job) []error
}

// CallerHistory finds the time of a caller's latest recorded call before
// a given time; key is a forwarder.CallerKey. Intake uses it when the
// rules ask about a caller's earlier calls.
type CallerHistory interface {
	PreviousCall(ctx context.Context, key string, before time.Time) (at time.Time, ok bool, err error)
}

// Operator is what the operator commands (explain, deadletter, replay)
// read and change.
type Operator interface {
	// Call returns the call stored under sid, or ErrNotFound.
	Call(ctx context.Context, sid string) (*forwarder.Call, error)
	// Jobs returns the jobs of the call sid with their states.
	Jobs(ctx context.Context, sid string) ([]JobInfo, error)
	// CallSids lists the Sids of the calls accepted since a time.
	CallSids(ctx context.Context, since time.Time, limit int) ([]string, error)
	// Replan adds to a stored call the deliveries it lacks.
	Replan(ctx context.Context, sid string, deliveries []forwarder.Delivery, opts ReplanOptions) (int, error)
	// DeadLetters lists dead letters, newest first.
	DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error)
	// RetryDead makes a dead letter pending again.
	RetryDead(ctx context.Context, id string) error
	// DropDead gives a dead letter up, leaving a tombstone (JobDropped).
	DropDead(ctx context.Context, id string) error
	// RejectedRequests lists refused requests, newest first.
	RejectedRequests(ctx context.Context, limit int) ([]Rejected, error)
}

// CommitObserver is a store whose write transactions can be observed (the
// embedded store: metrics then show its group commits). Only some backends
// have it; the app discovers it by a type assertion to this interface.
type CommitObserver interface {
	// RecordCommits makes r hear of every transaction from now on.
	RecordCommits(r CommitRecorder)
}

// CommitRecorder is told about every transaction a CommitObserver's store
// runs (metrics.Metrics is one): how many writes it carried and how long
// it took, fsync included.
type CommitRecorder interface {
	Commit(writes int, took time.Duration)
}
