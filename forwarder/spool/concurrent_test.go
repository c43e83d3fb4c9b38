package spool_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/callforward/callforward/forwarder/spool"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

// TestConcurrentOutage has 20 goroutines send the same calls during an
// outage, each with a plan of its own, then again while the spool drains:
// every Sid must be accepted once, and reach Redis once, with the plan of
// the goroutine that won it.
func TestConcurrentOutage(t *testing.T) {
	t.Parallel()
	const goroutines, sids = 20, 10
	srv := redistest.Start(t)
	r := openRedis(t, srv)
	s := openSpool(t, t.TempDir(), r, spool.Options{})
	ctx := t.Context()
	srv.Stop()

	sidOf := func(i int) string { return fmt.Sprintf("CA-%02d", i) }
	var (
		winners  [sids]atomic.Int64 // goroutine+1 that got nil
		accepted [sids]atomic.Int64
		errs     = make(chan error, goroutines*sids)
		wg       sync.WaitGroup
	)
	for g := range goroutines {
		wg.Go(func() {
			for k := range sids {
				i := (g + k) % sids
				call := newCall(sidOf(i))
				err := s.Accept(ctx, call, plan(call, fmt.Sprintf("g%d", g)))
				switch {
				case err == nil:
					accepted[i].Add(1)
					winners[i].Store(int64(g + 1))
				case !isDuplicate(err):
					errs <- fmt.Errorf("Accept(%s) by goroutine %d = %w", call.Sid, g, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range sids {
		if n := accepted[i].Load(); n != 1 {
			t.Errorf("%s accepted %d times during the outage, want 1", sidOf(i), n)
		}
	}
	wantPending(t, s, sids)

	// Drain while the same calls keep coming: each is in the spool or in
	// Redis at every moment, so every copy is a duplicate.
	srv.Restart()
	waitUp(t, r)
	for g := range goroutines {
		wg.Go(func() {
			for k := range sids {
				call := newCall(sidOf((g + k) % sids))
				if err := s.Accept(ctx, call, plan(call, "late")); !isDuplicate(err) {
					t.Errorf("Accept(%s) during the drain = %v, want ErrDuplicate", call.Sid, err)
				}
			}
		})
	}
	var moved atomic.Int64
	for range 2 {
		wg.Go(func() {
			n, err := s.DrainOnce(ctx)
			if err != nil {
				t.Errorf("DrainOnce = %v", err)
			}
			moved.Add(int64(n))
		})
	}
	wg.Wait()
	if moved.Load() != sids {
		t.Errorf("DrainOnce calls moved %d in all, want %d", moved.Load(), sids)
	}
	wantPending(t, s, 0)
	for i := range sids {
		g := winners[i].Load() - 1
		call := newCall(sidOf(i))
		wantInRedis(t, r, call, plan(call, fmt.Sprintf("g%d", g)))
	}
}
