package deliver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/deliver"
)

// TestFullClaimAheadDoesNotWaitForWindows: a backlog of small batches (one
// job per batch key) is sent at the workers' pace once the claimer holds
// all it may, instead of waiting for each batch's window (an hour here).
func TestFullClaimAheadDoesNotWaitForWindows(t *testing.T) {
	t.Parallel()
	st := openStore(t, 2*time.Hour, time.Now)
	const calls = 200
	for i := range calls {
		accept(t, st, fmt.Sprintf("client%03d-1", i), typeFake, "a")
	}
	sender := limitedFake{batchFake: &batchFake{}, max: 5, window: time.Hour}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers: 2, PollInterval: 5 * time.Millisecond, BatchWindow: time.Hour,
	})
	stop := start(t, d)
	// The last held batches wait for their window: every job but those
	// (at most a full batch per worker) is delivered well before it.
	const held = 2 * 5
	waitFor(t, "the backlog delivered", func() (bool, string) {
		s, err := st.Stats(context.Background())
		return err == nil && s.Done >= calls-held, fmt.Sprintf("%+v", s)
	})
	stop()
	batches, sent := sender.snapshot()
	for id, n := range sent {
		if n != 1 {
			t.Errorf("%s sent %d times, want once", id, n)
		}
	}
	for _, b := range batches {
		if len(b) != 1 {
			t.Errorf("batch %v, want one job per batch key", b)
		}
	}
}
