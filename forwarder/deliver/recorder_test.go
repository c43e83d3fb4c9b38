package deliver_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
)

// batchRecorder is a Recorder and BatchRecorder that keeps what it is told.
type batchRecorder struct {
	mu         sync.Mutex
	deliveries map[string]int   // by destination type
	batches    map[string][]int // batch sizes by destination type
}

func (r *batchRecorder) Delivery(d forwarder.Delivery, _ string, _ error, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries[d.Type]++
}

func (r *batchRecorder) Batch(typ string, size int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches[typ] = append(r.batches[typ], size)
}

// TestRecorderSeesBatchSizes: every batch sent through a BatchSender is
// reported once with its size; deliveries sent one by one are not
// batches.
func TestRecorderSeesBatchSizes(t *testing.T) {
	t.Parallel()
	const typeSingle = "single"
	st := openStore(t, time.Minute, time.Now)
	for i := range 40 {
		accept(t, st, fmt.Sprintf("CA%03d", i), typeFake, "a", "b")
		accept(t, st, fmt.Sprintf("CS%03d", i), typeSingle, "a")
	}
	batcher := &batchFake{}
	rec := &batchRecorder{deliveries: map[string]int{}, batches: map[string][]int{}}
	d := deliver.New(st, map[string]deliver.Sender{
		typeFake:   batcher,
		typeSingle: deliver.SenderFunc(func(context.Context, forwarder.Delivery) error { return nil }),
	}, deliver.Config{
		Workers: 2, PollInterval: 5 * time.Millisecond, MaxBatch: 30, BatchWindow: 20 * time.Millisecond, Recorder: rec,
	})
	stop := start(t, d)
	settled(t, st)
	stop()

	sent, _ := batcher.snapshot()
	var want []int
	for _, b := range sent {
		want = append(want, len(b))
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	got := slices.Clone(rec.batches[typeFake])
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("batch sizes recorded %v, want the sizes sent %v", got, want)
	}
	total := 0
	for _, n := range got {
		if n > 30 {
			t.Errorf("a batch of %d recorded, want at most MaxBatch 30", n)
		}
		total += n
	}
	if total != 80 || rec.deliveries[typeFake] != 80 {
		t.Errorf("batches hold %d deliveries and %d were recorded, want 80 each", total, rec.deliveries[typeFake])
	}
	if b := rec.batches[typeSingle]; len(b) != 0 || rec.deliveries[typeSingle] != 40 {
		t.Errorf("single sends: batches %v and %d deliveries recorded, want none and 40", b, rec.deliveries[typeSingle])
	}
}
