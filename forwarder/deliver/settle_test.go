package deliver_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/logtest"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/store"
)

// flakyAcks fails the first n Acks (or AckManys) as an unreachable store
// would.
type flakyAcks struct {
	*countingQueue
	failures atomic.Int64
}

func (q *flakyAcks) Ack(ctx context.Context, j store.Job) error {
	return q.AckMany(ctx, []store.Job{j})[0]
}

func (q *flakyAcks) AckMany(ctx context.Context, jobs []store.Job) []error {
	if q.failures.Add(-1) >= 0 {
		errs := make([]error, len(jobs))
		for i := range errs {
			errs[i] = errors.New("dial tcp 127.0.0.1:6379: connection refused")
		}
		return errs
	}
	return q.countingQueue.AckMany(ctx, jobs)
}

// TestSettleRetriedWhileStoreIsDown: a send succeeded but the store could
// not record it; the worker keeps trying, so when the store is back the
// job is done and Google got it once (not again after the lease).
func TestSettleRetriedWhileStoreIsDown(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, time.Now)
	accept(t, st, "CA1", typeFake, "rule")
	q := &flakyAcks{countingQueue: st}
	q.failures.Store(3)
	var sends atomic.Int64
	var logs logtest.Buffer
	d := deliver.New(q, map[string]deliver.Sender{typeFake: deliver.SenderFunc(func(context.Context, forwarder.Delivery) error {
		sends.Add(1)
		return nil
	})}, deliver.Config{Workers: 1, PollInterval: time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	stop := start(t, d)
	waitFor(t, "the job to be done", func() (bool, string) {
		s, err := st.Stats(context.Background())
		return err == nil && s.Done == 1, logs.String()
	})
	stop()
	if n := sends.Load(); n != 1 {
		t.Errorf("sent %d times, want 1", n)
	}
	if !strings.Contains(logs.String(), "settled after the store came back") {
		t.Errorf("logs do not say the settle was retried:\n%s", logs.String())
	}
}

// TestNoClaimWhileOutcomesAreUnrecorded: the store lost a send's outcome
// for longer than the job's lease. When it is back, the outcome is
// recorded before the claimer takes the job again, so the delivery is sent
// once, not a second time after its lease ran out.
func TestNoClaimWhileOutcomesAreUnrecorded(t *testing.T) {
	t.Parallel()
	const lease = 30 * time.Millisecond
	st := openStore(t, lease, time.Now)
	accept(t, st, "CA1", typeFake, "rule")
	q := &flakyAcks{countingQueue: st}
	q.failures.Store(4) // 50+100+200+400 ms of retries, far beyond the lease
	var sends atomic.Int64
	d := deliver.New(q, map[string]deliver.Sender{typeFake: deliver.SenderFunc(func(context.Context, forwarder.Delivery) error {
		sends.Add(1)
		return nil
	})}, deliver.Config{Workers: 4, PollInterval: time.Millisecond, SendTimeout: lease / 2})
	stop := start(t, d)
	waitFor(t, "the job to be done", func() (bool, string) {
		s, err := st.Stats(context.Background())
		return err == nil && s.Done == 1, ""
	})
	stop()
	if n := sends.Load(); n != 1 {
		t.Errorf("sent %d times, want 1", n)
	}
}
