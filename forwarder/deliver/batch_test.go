package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/store"
)

// batchFake is a BatchSender that records its batches and fails the
// deliveries listed in fail.
type batchFake struct {
	mu      sync.Mutex
	batches [][]string
	singles int
	fail    map[string]error
}

func (b *batchFake) BatchKey(d forwarder.Delivery) string { return d.Destination }

func (b *batchFake) Send(ctx context.Context, d forwarder.Delivery) error {
	b.mu.Lock()
	b.singles++
	b.mu.Unlock()
	return b.SendBatch(ctx, []forwarder.Delivery{d})[0]
}

func (b *batchFake) SendBatch(_ context.Context, ds []forwarder.Delivery) []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := make([]string, len(ds))
	errs := make([]error, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
		errs[i] = b.fail[d.ID]
	}
	b.batches = append(b.batches, ids)
	return errs
}

func (b *batchFake) snapshot() (batches [][]string, sent map[string]int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sent = map[string]int{}
	for _, batch := range b.batches {
		for _, id := range batch {
			sent[id]++
		}
	}
	return append([][]string(nil), b.batches...), sent
}

// TestBatching: 3,000 queued deliveries for one batch key go out in
// batches no larger than MaxBatch, each delivery exactly once; a delivery
// Google refuses inside a batch is dead-lettered alone.
func TestBatching(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, time.Now)
	var bad string
	for i := range 1500 {
		ds := accept(t, st, fmt.Sprintf("CA%05d", i), typeFake, "a", "b")
		if i == 700 {
			bad = ds[1].ID
		}
	}
	sender := &batchFake{fail: map[string]error{bad: forwarder.Permanent("INVALID_GCLID", errors.New("bad click"))}}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers: 4, PollInterval: 5 * time.Millisecond, MaxBatch: 1000, BatchWindow: 50 * time.Millisecond,
	})
	stop := start(t, d)
	waitFor(t, "every job settled", func() (bool, string) {
		s, err := st.Stats(context.Background())
		return err == nil && s.Pending == 0, fmt.Sprintf("%+v", s)
	})
	stop()
	batches, sent := sender.snapshot()
	if len(sent) != 3000 {
		t.Errorf("%d distinct deliveries sent, want 3000", len(sent))
	}
	for id, n := range sent {
		if n != 1 {
			t.Errorf("%s sent %d times", id, n)
		}
	}
	for _, b := range batches {
		if len(b) > 1000 {
			t.Errorf("a batch of %d, want at most 1000", len(b))
		}
	}
	if len(batches) > 30 {
		t.Errorf("%d requests for 3000 deliveries, want at most 30 (3000/100)", len(batches))
	}
	if sender.singles != 0 {
		t.Errorf("%d single sends, want all through SendBatch", sender.singles)
	}
	s, _ := st.Stats(context.Background())
	if s.Done != 2999 || s.Dead != 1 {
		t.Errorf("stats %+v, want 2999 done and the refused one dead", s)
	}
	dead, _ := st.DeadLetters(context.Background(), 0)
	if len(dead) != 1 || dead[0].Job.Delivery.ID != bad || dead[0].Code != "INVALID_GCLID" {
		t.Errorf("dead letters %+v, want %s with code INVALID_GCLID", dead, bad)
	}
}

// TestBatchWindowFlushesSmallBatches: a lone delivery does not wait for a
// full batch: it goes out once BatchWindow has passed.
func TestBatchWindowFlushesSmallBatches(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, time.Now)
	accept(t, st, "CA1", typeFake, "a")
	sender := &batchFake{}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers: 2, PollInterval: 5 * time.Millisecond, BatchWindow: 20 * time.Millisecond,
	})
	stop := start(t, d)
	waitFor(t, "the lone delivery to be sent", func() (bool, string) {
		b, _ := sender.snapshot()
		return len(b) == 1, fmt.Sprint(b)
	})
	stop()
}

// limitedFake is a batchFake with a batch key of its own and batch limits,
// as the GA4 sender has: deliveries share a batch by the part of their
// call sid before "-" (a client id, say).
type limitedFake struct {
	*batchFake
	max    int
	window time.Duration
}

func (l limitedFake) BatchKey(d forwarder.Delivery) string {
	client, _, _ := strings.Cut(d.CallSid, "-")
	return client
}

func (l limitedFake) BatchLimits() (int, time.Duration) { return l.max, l.window }

var _ deliver.BatchLimiter = limitedFake{}

// TestBatchLimiterCapsBatches: a sender's own maximum caps its batches
// below Config.MaxBatch; every delivery is still sent once, and a batch
// holds one batch key only.
func TestBatchLimiterCapsBatches(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, time.Now)
	const clients, callsPerClient = 4, 15
	var want []string
	for c := range clients {
		for i := range callsPerClient {
			// Seven deliveries per call, as GA4 gets for the benchmark call.
			for _, d := range accept(t, st, fmt.Sprintf("client%d-%02d", c, i), typeFake, "r1", "r2", "r3", "r4", "r5", "r6", "r7") {
				want = append(want, d.ID)
			}
		}
	}
	sender := limitedFake{batchFake: &batchFake{}, max: 25, window: 20 * time.Millisecond}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers: 4, PollInterval: 5 * time.Millisecond, MaxBatch: 1000, BatchWindow: time.Hour,
	})
	stop := start(t, d)
	waitFor(t, "every job settled", func() (bool, string) {
		s, err := st.Stats(context.Background())
		return err == nil && s.Pending == 0, fmt.Sprintf("%+v", s)
	})
	stop()
	batches, sent := sender.snapshot()
	if len(sent) != len(want) {
		t.Errorf("%d distinct deliveries sent, want %d", len(sent), len(want))
	}
	for _, id := range want {
		if sent[id] != 1 {
			t.Errorf("%s sent %d times, want once", id, sent[id])
		}
	}
	perClient := clients * callsPerClient * 7 / clients
	minBatches := clients * ((perClient + 24) / 25)
	if len(batches) < minBatches {
		t.Errorf("%d batches, want at least %d (%d deliveries per key, 25 per batch)", len(batches), minBatches, perClient)
	}
	for _, b := range batches {
		if len(b) > 25 {
			t.Errorf("a batch of %d, want at most the sender's 25", len(b))
		}
		key, _, _ := strings.Cut(b[0], "-")
		for _, id := range b {
			if k, _, _ := strings.Cut(id, "-"); k != key {
				t.Errorf("batch %v mixes batch keys %s and %s", b, key, k)
				break
			}
		}
	}
}

// TestBatchLimiterWindow: a sender's own window flushes its batches
// although Config.BatchWindow is an hour; another batch sender of the same
// deliverer keeps the config's window.
func TestBatchLimiterWindow(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Hour, time.Now)
	const typeSlow = "slow"
	accept(t, st, "client1-01", typeFake, "a")
	accept(t, st, "CA2", typeSlow, "a")
	quick := limitedFake{batchFake: &batchFake{}, max: 25, window: 10 * time.Millisecond}
	slow := &batchFake{}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: quick, typeSlow: slow}, deliver.Config{
		Workers: 2, PollInterval: 5 * time.Millisecond, BatchWindow: time.Hour,
	})
	stop := start(t, d)
	waitFor(t, "the delivery of the sender with a short window to be sent", func() (bool, string) {
		b, _ := quick.snapshot()
		return len(b) == 1, fmt.Sprint(b)
	})
	// The claimer looks for work a few more times: the other batch is
	// still held for the config's window.
	claims := st.claims.Load()
	waitFor(t, "more claim rounds", func() (bool, string) {
		n := st.claims.Load()
		return n >= claims+3, fmt.Sprint(n)
	})
	if b, _ := slow.snapshot(); len(b) != 0 {
		t.Errorf("the sender without limits sent %v before the config's window of an hour", b)
	}
	stop()
	// Shutdown sends what is held rather than leaving it to its lease.
	if b, _ := slow.snapshot(); len(b) != 1 {
		t.Errorf("at shutdown: want the held batch sent, got %v", b)
	}
}

// claimCounter is the real store with the jobs it handed out counted.
type claimCounter struct {
	*countingQueue
	jobs atomic.Int64
}

func (q *claimCounter) Claim(ctx context.Context, max int) ([]store.Job, error) {
	jobs, err := q.countingQueue.Claim(ctx, max)
	q.jobs.Add(int64(len(jobs)))
	return jobs, err
}

// blockingFake is a limitedFake whose sends wait until release is closed;
// inFlight counts the sends waiting.
type blockingFake struct {
	limitedFake
	release  chan struct{}
	inFlight *atomic.Int64
}

func (b blockingFake) SendBatch(ctx context.Context, ds []forwarder.Delivery) []error {
	b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return b.limitedFake.SendBatch(ctx, ds)
}

// TestBatchLimiterBoundsClaimAhead: while Google hangs, the claimer holds
// at most a full batch of the sender's own size per worker besides the
// sends in flight, so claimed jobs do not wait out their lease in memory.
func TestBatchLimiterBoundsClaimAhead(t *testing.T) {
	t.Parallel()
	st := &claimCounter{countingQueue: openStore(t, time.Hour, time.Now)}
	for i := range 300 {
		accept(t, st.countingQueue, fmt.Sprintf("client%03d-1", i), typeFake, "a")
	}
	const workers, max = 2, 5
	sender := blockingFake{
		limitedFake: limitedFake{batchFake: &batchFake{}, max: max, window: 5 * time.Millisecond},
		release:     make(chan struct{}),
		inFlight:    &atomic.Int64{},
	}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers: workers, PollInterval: 5 * time.Millisecond, MaxBatch: 2000, BatchWindow: time.Hour,
	})
	stop := start(t, d)
	var once sync.Once
	release := func() { once.Do(func() { close(sender.release) }) }
	t.Cleanup(release)
	waitFor(t, "every worker hanging", func() (bool, string) {
		n := sender.inFlight.Load()
		return n == workers, fmt.Sprint(n)
	})
	// A claimer without a bound would go on claiming meanwhile.
	time.Sleep(200 * time.Millisecond)
	// The sends in flight (one job each) and at most max jobs per worker
	// held.
	if n, limit := st.jobs.Load(), int64(workers+workers*max); n > limit {
		t.Errorf("%d jobs claimed while every send hangs, want at most %d", n, limit)
	}
	release()
	waitFor(t, "every job settled", func() (bool, string) {
		s, err := st.Stats(context.Background())
		return err == nil && s.Pending == 0, fmt.Sprintf("%+v", s)
	})
	stop()
	if _, sent := sender.snapshot(); len(sent) != 300 {
		t.Errorf("%d deliveries sent, want 300", len(sent))
	}
}
