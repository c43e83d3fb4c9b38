package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/store"
)

// slowGoogle is a BatchSender with one batch per call that takes took to
// answer each batch (or until the send times out), as a slow Google
// does; it counts the sends of each delivery.
type slowGoogle struct {
	took time.Duration

	mu   sync.Mutex
	sent map[string]int
}

func (s *slowGoogle) BatchKey(d forwarder.Delivery) string { return d.CallSid }

func (s *slowGoogle) Send(ctx context.Context, d forwarder.Delivery) error {
	return s.SendBatch(ctx, []forwarder.Delivery{d})[0]
}

func (s *slowGoogle) SendBatch(ctx context.Context, ds []forwarder.Delivery) []error {
	s.mu.Lock()
	for _, d := range ds {
		s.sent[d.ID]++
	}
	s.mu.Unlock()
	errs := make([]error, len(ds))
	select {
	case <-time.After(s.took):
	case <-ctx.Done():
		for i := range errs {
			errs[i] = forwarder.Transient("timeout", ctx.Err())
		}
	}
	return errs
}

func (s *slowGoogle) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.sent))
	for id, n := range s.sent {
		out[id] = n
	}
	return out
}

// noExtend is the real store unable to extend a lease, as when it is
// unreachable for a while.
type noExtend struct{ *countingQueue }

func (q noExtend) Extend(_ context.Context, jobs []store.Job, _ time.Duration) []error {
	errs := make([]error, len(jobs))
	for i := range errs {
		errs[i] = errors.New("dial tcp 127.0.0.1:6379: connection refused")
	}
	return errs
}

// TestNoSendAfterTheLease: a slow Google keeps the only worker busy while
// the claimer holds many more claimed jobs than it can send within the
// lease. No job may be sent by a holder whose lease may have run out:
// either the holder keeps the leases of what it holds, or, when the
// store cannot extend them, it leaves a job whose lease is too short to
// its lease, and the next claim sends it. Each delivery is sent once.
func TestNoSendAfterTheLease(t *testing.T) {
	t.Parallel()
	const (
		lease       = 300 * time.Millisecond
		sendTimeout = 100 * time.Millisecond
		took        = 60 * time.Millisecond
		calls       = 12
	)
	tests := []struct {
		name  string
		queue func(*countingQueue) deliver.Queue
	}{
		{"leases kept while held", func(q *countingQueue) deliver.Queue { return q }},
		{"store cannot extend", func(q *countingQueue) deliver.Queue { return noExtend{q} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t, lease, time.Now)
			for i := range calls {
				accept(t, st, fmt.Sprintf("CA%02d", i), typeFake, "r")
			}
			google := &slowGoogle{took: took, sent: map[string]int{}}
			d := deliver.New(tt.queue(st), map[string]deliver.Sender{typeFake: google}, deliver.Config{
				Workers: 1, PollInterval: 5 * time.Millisecond, BatchWindow: time.Millisecond,
				SendTimeout: sendTimeout,
			})
			stop := start(t, d)
			waitFor(t, "every job done", func() (bool, string) {
				s, err := st.Stats(context.Background())
				return err == nil && s.Done == calls, fmt.Sprintf("%+v", s)
			})
			stop()
			sent := google.counts()
			if len(sent) != calls {
				t.Errorf("%d deliveries sent, want %d", len(sent), calls)
			}
			for id, n := range sent {
				if n != 1 {
					t.Errorf("%s sent %d times, want once", id, n)
				}
			}
		})
	}
}

// TestHeldJobsKeepTheirLease: a job gathered for a batch whose window is
// several leases long stays claimed by its holder all along: no other
// claimer can take it, and it is sent once.
func TestHeldJobsKeepTheirLease(t *testing.T) {
	t.Parallel()
	const lease = 150 * time.Millisecond
	st := openStore(t, lease, time.Now)
	accept(t, st, "CA-held", typeFake, "r")
	google := &slowGoogle{sent: map[string]int{}}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: google}, deliver.Config{
		// The claimer sleeps until the batch's window ends: only the test
		// claims meanwhile.
		Workers: 1, PollInterval: time.Hour, BatchWindow: 5 * lease, SendTimeout: lease / 3,
	})
	stop := start(t, d)
	waitFor(t, "the job claimed", func() (bool, string) {
		j := onlyJob(t, st, "CA-held")
		return j.Job.Lease != "", fmt.Sprintf("%+v", j)
	})
	for deadline := time.Now().Add(3 * lease); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		jobs, err := st.Store.Claim(context.Background(), 10)
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		if len(jobs) > 0 {
			t.Fatalf("another claimer took %s while its holder still held it", jobs[0].Delivery.ID)
		}
	}
	waitFor(t, "the job done", func() (bool, string) {
		j := onlyJob(t, st, "CA-held")
		return j.State == store.JobDone, fmt.Sprintf("%+v", j)
	})
	stop()
	if n := google.counts()["CA-held/r/web"]; n != 1 {
		t.Errorf("sent %d times, want once", n)
	}
}
