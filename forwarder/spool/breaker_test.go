package spool_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/spool"
)

// TestPrimarySkippedWhileDown: once the primary failed, the next calls go
// straight to the spool (sparing each webhook the client's connection
// retries) until a drain round finds the primary answering again.
func TestPrimarySkippedWhileDown(t *testing.T) {
	var asked atomic.Int64
	var down atomic.Bool
	down.Store(true)
	primary := fakePrimary{
		accept: func(*forwarder.Call) error {
			asked.Add(1)
			if down.Load() {
				return errDown
			}
			return nil
		},
		ping: func() error {
			if down.Load() {
				return errDown
			}
			return nil
		},
	}
	s := openSpool(t, t.TempDir(), primary, spool.Options{})
	ctx := context.Background()
	for _, sid := range []string{"CA1", "CA2", "CA3"} {
		if err := s.Accept(ctx, newCall(sid), nil); err != nil {
			t.Fatalf("Accept(%s) = %v, want it spooled", sid, err)
		}
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the primary was asked %d times, want once (then skipped)", n)
	}
	down.Store(false)
	if moved, err := s.DrainOnce(ctx); err != nil || moved != 3 {
		t.Fatalf("DrainOnce = %d, %v; want 3, nil", moved, err)
	}
	if err := s.Accept(ctx, newCall("CA4"), nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Pending(); n != 0 {
		t.Errorf("%d spooled after the primary came back, want the call in the primary", n)
	}
}
