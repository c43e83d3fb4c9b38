package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/logtest"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/store"
)

// ackQueue is the real store with its acknowledgements counted. The first
// failAckMany AckMany calls fail as an unreachable store would; AckMany
// presents the job forge with a wrong lease, as if it had been claimed
// again meanwhile.
type ackQueue struct {
	*countingQueue
	forge       string
	failAckMany atomic.Int64
	acks        atomic.Int64 // Ack calls
	ackManys    atomic.Int64 // AckMany calls
	ackManyJobs atomic.Int64 // jobs passed to AckMany
}

func (q *ackQueue) Ack(ctx context.Context, j store.Job) error {
	q.acks.Add(1)
	return q.countingQueue.Ack(ctx, j)
}

func (q *ackQueue) AckMany(ctx context.Context, jobs []store.Job) []error {
	q.ackManys.Add(1)
	q.ackManyJobs.Add(int64(len(jobs)))
	if q.failAckMany.Add(-1) >= 0 {
		errs := make([]error, len(jobs))
		for i := range errs {
			errs[i] = errors.New("dial tcp 127.0.0.1:6379: connection refused")
		}
		return errs
	}
	jobs = append([]store.Job(nil), jobs...)
	for i := range jobs {
		if jobs[i].Delivery.ID == q.forge {
			jobs[i].Lease = "stale"
		}
	}
	return q.countingQueue.AckMany(ctx, jobs)
}

// plainQueue hides AckMany: only the methods of deliver.Queue are left.
type plainQueue struct{ deliver.Queue }

// outcomes is a Recorder keeping each delivery's last outcome.
type outcomes struct {
	mu sync.Mutex
	by map[string]string
}

func (o *outcomes) Delivery(d forwarder.Delivery, outcome string, _ error, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.by[d.ID] = outcome
}

func (o *outcomes) count() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := map[string]int{}
	for _, outcome := range o.by {
		n[outcome]++
	}
	return n
}

// TestBatchAcknowledgedTogether: the deliveries of a batch that Google
// accepted are acknowledged in one AckMany when the store has it (and one
// by one when it has not), the refused one is settled alone, a failing
// AckMany is tried again until the store is back, and a lost lease is
// reported for its job only.
func TestBatchAcknowledgedTogether(t *testing.T) {
	t.Parallel()
	const calls = 10
	tests := []struct {
		name        string
		plain       bool // the queue has no AckMany
		failAckMany int64
		forge       int // the call whose delivery has a lost lease, or -1
		wantDone    int
		wantOut     map[string]int
		wantLog     string
	}{
		{name: "one AckMany", forge: -1, wantDone: calls - 1,
			wantOut: map[string]int{"delivered": calls - 1, "dead": 1}},
		{name: "without AckMany", plain: true, forge: -1, wantDone: calls - 1,
			wantOut: map[string]int{"delivered": calls - 1, "dead": 1}},
		{name: "store down, then back", failAckMany: 2, forge: -1, wantDone: calls - 1,
			wantOut: map[string]int{"delivered": calls - 1, "dead": 1}, wantLog: "settled after the store came back"},
		{name: "lease lost", forge: 3, wantDone: calls - 2,
			wantOut: map[string]int{"delivered": calls - 2, "lease_lost": 1, "dead": 1}, wantLog: "lease lost before settling"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t, time.Minute, time.Now)
			var bad string
			q := &ackQueue{countingQueue: st}
			q.failAckMany.Store(tt.failAckMany)
			for i := range calls {
				ds := accept(t, st, fmt.Sprintf("CA%02d", i), typeFake, "a")
				if i == calls-1 {
					bad = ds[0].ID
				}
				if i == tt.forge {
					q.forge = ds[0].ID
				}
			}
			var queue deliver.Queue = q
			if tt.plain {
				queue = plainQueue{q}
			}
			sender := &batchFake{fail: map[string]error{bad: forwarder.Permanent("INVALID", errors.New("refused"))}}
			rec := &outcomes{by: map[string]string{}}
			var logs logtest.Buffer
			d := deliver.New(queue, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
				Workers: 2, PollInterval: time.Millisecond, MaxBatch: 100, BatchWindow: 20 * time.Millisecond,
				Recorder: rec, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			stop := start(t, d)
			waitFor(t, "every outcome recorded", func() (bool, string) {
				return len(rec.count()) > 0 && sum(rec.count()) == calls, fmt.Sprint(rec.count())
			})
			stop()

			if got := rec.count(); fmt.Sprint(got) != fmt.Sprint(tt.wantOut) {
				t.Errorf("outcomes %v, want %v", got, tt.wantOut)
			}
			s, err := st.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if s.Done != tt.wantDone || s.Dead != 1 {
				t.Errorf("stats %+v, want %d done and 1 dead", s, tt.wantDone)
			}
			_, sent := sender.snapshot()
			for id, n := range sent {
				if n != 1 {
					t.Errorf("%s sent %d times, want once", id, n)
				}
			}
			if tt.plain {
				if q.ackManys.Load() != 0 || q.acks.Load() != calls-1 {
					t.Errorf("%d AckMany and %d Ack calls, want 0 and %d", q.ackManys.Load(), q.acks.Load(), calls-1)
				}
			} else {
				batches, _ := sender.snapshot()
				if q.acks.Load() != 0 {
					t.Errorf("%d Ack calls, want none: every delivered job through AckMany", q.acks.Load())
				}
				// One AckMany per batch, plus one per failed attempt.
				if want := int64(len(batches)) + tt.failAckMany; q.ackManys.Load() != want {
					t.Errorf("%d AckMany calls for %d batches, want %d", q.ackManys.Load(), len(batches), want)
				}
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, logs.String())
			}
		})
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
