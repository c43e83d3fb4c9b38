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
