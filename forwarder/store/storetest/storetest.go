// Package storetest is the conformance suite every store backend passes:
// a backend's test calls Run with a constructor, and the suite checks the
// contract of package store (store.Store, every part of it) on a fresh store per subtest, with a fake
// clock so that leases, retries and the dedup window can be crossed
// without waiting.
//
// Besides the contract in package store, the suite pins down these
// behaviours, which every backend shares:
//
//   - An event of a Sid is a duplicate while its dedup mark is younger
//     than the dedup window (age < window), judged by age whether or not
//     Sweep ran. Each event of a Sid has its own mark: a Call.Initiate
//     does not make the Call.Complete of its Sid a duplicate, nor the
//     other way round. The stored call is the latest event accepted,
//     except that a Call.Complete within its window is kept.
//   - A Sid accepted again after its window replaces the call; its jobs
//     that still exist are kept when pending or dead, and when they are
//     done marks younger than the window; expired done marks are planned
//     again.
//   - Accept refuses a call without Sid and deliveries of another call
//     (Delivery.CallSid or Delivery.ID not under the Sid), writing nothing.
//   - Ack, Retry and Bury each count an attempt; Bury keeps the reason as
//     LastError too; RetryDead resets Attempts and keeps LastError.
//   - Settling an unknown job, an unclaimed job or a settled one is
//     ErrLeaseLost; RetryDead and DropDead of anything but a dead letter
//     are ErrNotFound.
//   - AckMany acknowledges each job as Ack would, returning one error per
//     job in order: a job whose lease is lost (a stale or repeated one) is
//     ErrLeaseLost and left as it was, while the others are acknowledged.
//   - Extend moves the lease end of each job whose lease is current to
//     now+d (never earlier than it was), keeping its lease token, and
//     returns one error per job in order: ErrLeaseLost for a job settled,
//     claimed again, unknown or under another lease, left as it was.
//   - Lists (DeadLetters, RejectedRequests) are newest first, limit <= 0
//     meaning all; Jobs is ordered by delivery ID and is empty, not an
//     error, for an unknown call.
//   - DropDead leaves a tombstone (JobDropped) that Jobs lists, Claim
//     never hands out, and Replan and Accept leave alone (Replan replaces
//     it only with ReplanOptions.IncludeDropped); it lives the dedup window
//     from the drop, like a done mark.
//   - Sweep counts the calls, done marks, tombstones and rejected requests
//     it removed.
//   - Replan adds only the deliveries whose ID exists in no state, due
//     now, leaving existing jobs (claimed ones included) untouched; it is
//     ErrNotFound for a call never accepted or swept, and refuses
//     deliveries of another call like Accept.
//   - CallSids lists each stored Sid once, by its latest acceptance,
//     oldest first, since inclusive, limit <= 0 meaning all.
//   - Accept records a call carrying a caller key (Call.History.Key) at
//     Call.History.At (the store's now when zero); PreviousCall returns
//     the caller's latest recorded time strictly before the time asked
//     about, in UTC, whatever order the calls arrived in; an entry whose
//     age reaches the caller history retention is gone, judged by age
//     whether or not Sweep ran, and Sweep counts it when it removes it. A
//     duplicate records nothing; a key that is not a hex SHA-256 is
//     ErrInvalidCallerKey, and Accept then writes nothing.
//   - Stats.EarliestDue is the earliest DueAt among pending jobs, a
//     claimed job counting at its lease end, in UTC; zero when none is
//     pending.
//   - A settlement stores exactly the History (its latest MaxHistory
//     attempts) and Verdict of the job given, and Claim hands them back.
//   - AckPolled records the poll with the items of the jobs it
//     acknowledged, none when no job was; a poll is claimed (oldest due
//     first) under a lease of Options.Lease that ReschedulePoll and
//     ResolvePoll check (ErrLeaseLost), and comes back when the lease
//     ends. ResolvePoll records a verdict only on a job still done by the
//     request polled; a rejected one becomes a dead letter of kind
//     DeadProcessing (Jobs shows the kind too), which RetryDead makes
//     pending without verdict or kind and DropDead keeps as a tombstone of
//     that kind. Sweep leaves pending polls alone.
//   - ListCalls lists newest accepted first; a cursor continues strictly
//     after the last call examined, unaffected by calls accepted since;
//     State, Rule and Destination must hold for one and the same job; a
//     page examines at most CallScanFactor times its size.
//   - RunDurable (a second suite, for a backend that can open its data
//     again): polls, history and verdicts survive a restart, and, where
//     handles can be open at once (Redis), two handles never hold one poll.
//   - Jobs shows a done job with store.DoneDelivery of its delivery and
//     its attempts, history and verdict; one acknowledged under a poll
//     whole until ResolvePoll; dead and pending jobs whole, and RetryDead
//     sends them whole.
//   - Tallies equal at all times a recount from Jobs, DeadLetters and
//     ListCalls (store.Recount), after any sequence of writes.
//   - Every method fails without writing when its context is done.
//
// The package also holds BenchEncoding, the encoding/json-against-encoder
// benchmark that package store and the backends share.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

// The options every subtest runs with.
const (
	window  = 24 * time.Hour
	lease   = time.Minute
	history = 7 * 24 * time.Hour
)

// epoch is where every subtest's clock starts.
var epoch = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// env is what a subtest works with.
type env struct {
	s     store.Store
	clock *Clock
	ctx   context.Context
}

// Run runs the conformance suite. newStore must return a fresh, empty
// store that honours opts (the suite controls time through opts.Now) and
// arrange for it to be closed when t ends; it is called once per subtest,
// and subtests run in parallel.
func Run(t *testing.T, newStore func(t *testing.T, opts store.Options) store.Store) {
	groups := [][]subtest{
		acceptTests, dedupTests, claimTests, settleTests, ackManyTests,
		deadTests, rejectTests, lookupTests, sweepTests, concurrentTests,
		replanTests, historyTests, eventTests, extendTests, diagnosticsTests, callTests,
		tallyTests, doneTests,
	}
	for _, group := range groups {
		for _, st := range group {
			t.Run(st.name, func(t *testing.T) {
				t.Parallel()
				clock := NewClock(epoch)
				opts := store.Options{DedupWindow: window, Lease: lease, CallerHistory: history, Now: clock.Now}
				st.run(t, &env{s: newStore(t, opts), clock: clock, ctx: t.Context()})
			})
		}
	}
}

// subtest is one named check of the suite.
type subtest struct {
	name string
	run  func(t *testing.T, e *env)
}
