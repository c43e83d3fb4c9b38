package deliver_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/store"
)

// claimSizes is the real store with the size of every claim recorded.
type claimSizes struct {
	*countingQueue
	mu    sync.Mutex
	sizes []int
	// claimed, when set, runs after each claim that took jobs.
	claimed func()
}

func (q *claimSizes) Claim(ctx context.Context, max int) ([]store.Job, error) {
	jobs, err := q.countingQueue.Claim(ctx, max)
	if len(jobs) > 0 {
		q.mu.Lock()
		q.sizes = append(q.sizes, len(jobs))
		q.mu.Unlock()
		if q.claimed != nil {
			q.claimed()
		}
	}
	return jobs, err
}

func (q *claimSizes) snapshot() []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]int(nil), q.sizes...)
}

// TestClaimTakesAFullBatchWhileIntakeIsQuiet: a backlog of batches larger
// than MaxClaim is claimed a full batch at a time while intake is quiet
// (one store transaction per batch rather than one per MaxClaim jobs),
// and MaxClaim at a time while intake is busy, for a second after a
// webhook was last seen in progress, and always on a store with other
// writers (WholeBatchClaims off).
func TestClaimTakesAFullBatchWhileIntakeIsQuiet(t *testing.T) {
	const maxClaim, maxBatch = 10, 40
	for _, tc := range []struct {
		name     string
		inFlight int
		// quietAfterFirst: intake goes quiet once the first claim is made.
		quietAfterFirst bool
		// shared: the store has other writers (WholeBatchClaims off).
		shared bool
		want   int // the largest claim
	}{
		{name: "quiet intake", inFlight: 0, want: maxBatch},
		{name: "quiet intake, shared store", inFlight: 0, shared: true, want: maxClaim},
		{name: "busy intake", inFlight: 100, want: maxClaim},
		{name: "one webhook in progress", inFlight: 1, want: maxClaim},
		{name: "intake quiet for less than a second", inFlight: 1, quietAfterFirst: true, want: maxClaim},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := &claimSizes{countingQueue: openStore(t, time.Hour, time.Now)}
			for i := range maxBatch {
				accept(t, st.countingQueue, fmt.Sprintf("CA%03d", i), typeFake, "a")
			}
			in := &fakeIntake{}
			in.inFlight.Store(int64(tc.inFlight))
			if tc.quietAfterFirst {
				st.claimed = func() { in.inFlight.Store(0) }
			}
			sender := &batchFake{}
			d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
				Workers: 1, PollInterval: 5 * time.Millisecond, MaxClaim: maxClaim, MaxBatch: maxBatch,
				BatchWindow: time.Hour, Intake: in, YieldAt: 4, MaxYield: time.Millisecond, WholeBatchClaims: !tc.shared,
			})
			stop := start(t, d)
			settled(t, st.countingQueue)
			stop()
			sizes := st.snapshot()
			largest := 0
			for _, n := range sizes {
				largest = max(largest, n)
			}
			if largest != tc.want {
				t.Errorf("claims of %v jobs, want the largest %d", sizes, tc.want)
			}
			batches, sent := sender.snapshot()
			if len(sent) != maxBatch {
				t.Errorf("%d deliveries sent, want %d", len(sent), maxBatch)
			}
			for id, n := range sent {
				if n != 1 {
					t.Errorf("%s sent %d times, want once", id, n)
				}
			}
			if tc.want == maxBatch && len(batches) != 1 {
				t.Errorf("%d batches sent, want the backlog in one", len(batches))
			}
		})
	}
}

// TestClaimSizedByTheBatchesHeld: with a sender of large batches among the
// senders, a backlog of small batches only is claimed, after the first
// claim, by the small batches' measure (at most MaxClaim, a full batch per
// worker held), not by the large batches' (a full large batch at a time).
func TestClaimSizedByTheBatchesHeld(t *testing.T) {
	const maxClaim, maxBatch, small, backlog = 10, 40, 5, 200
	st := &claimSizes{countingQueue: openStore(t, time.Hour, time.Now)}
	for i := range backlog {
		accept(t, st.countingQueue, fmt.Sprintf("CA%03d", i), "small", "a")
	}
	smallSender := limitedFake{batchFake: &batchFake{}, max: small, window: 20 * time.Millisecond}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: &batchFake{}, "small": smallSender}, deliver.Config{
		Workers: 1, PollInterval: 5 * time.Millisecond, MaxClaim: maxClaim, MaxBatch: maxBatch,
		BatchWindow: time.Hour, Intake: &fakeIntake{}, WholeBatchClaims: true,
	})
	stop := start(t, d)
	settled(t, st.countingQueue)
	stop()
	sizes := st.snapshot()
	if len(sizes) < 2 {
		t.Fatalf("claims of %v jobs, want several", sizes)
	}
	for i, n := range sizes[1:] {
		if n > maxClaim {
			t.Errorf("claim %d took %d jobs (claims %v), want at most %d after the first", i+2, n, sizes, maxClaim)
		}
	}
	_, sent := smallSender.snapshot()
	if len(sent) != backlog {
		t.Errorf("%d deliveries sent, want %d", len(sent), backlog)
	}
}
