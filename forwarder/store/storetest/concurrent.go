package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/callforward/callforward/forwarder/store"
)

var concurrentTests = []subtest{
	{"concurrent/each sid accepted once", testConcurrentAccept},
	{"concurrent/each job acked once", testConcurrentClaim},
}

func testConcurrentAccept(t *testing.T, e *env) {
	const goroutines, copies, sids = 50, 20, 25
	var (
		mu       sync.Mutex
		accepted = map[string]int{}
		dups     int
		wg       sync.WaitGroup
	)
	for g := range goroutines {
		wg.Go(func() {
			// Goroutine g sends sids g..g+19 (mod 25): every sid is sent
			// by 40 goroutines at once.
			for i := range copies {
				call := newCall(fmt.Sprintf("CA-%02d", (g+i)%sids))
				err := e.s.Accept(e.ctx, call, plan(call, "a", "b"))
				mu.Lock()
				switch {
				case err == nil:
					accepted[call.Sid]++
				case errors.Is(err, store.ErrDuplicate):
					dups++
				default:
					t.Errorf("Accept(%s) = %v, want nil or ErrDuplicate", call.Sid, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(accepted) != sids {
		t.Fatalf("accepted %d distinct sids, want %d", len(accepted), sids)
	}
	for sid, n := range accepted {
		if n != 1 {
			t.Errorf("sid %s accepted %d times, want once", sid, n)
		}
	}
	if want := goroutines*copies - sids; dups != want {
		t.Errorf("%d duplicates, want %d", dups, want)
	}
	e.wantStats(t, store.Stats{Calls: sids, Pending: 2 * sids})
}

func testConcurrentClaim(t *testing.T, e *env) {
	const workers, calls, perCall = 8, 40, 5
	rules := make([]string, perCall)
	for i := range rules {
		rules[i] = fmt.Sprintf("r%d", i)
	}
	for i := range calls {
		e.accept(t, fmt.Sprintf("CA-%02d", i), rules...)
	}

	var (
		mu    sync.Mutex
		acked = map[string]int{}
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			// The clock stands still, so a claimed job cannot come back:
			// an empty claim means every job has been handed out.
			for {
				jobs, err := e.s.Claim(e.ctx, 7)
				if err != nil {
					t.Errorf("Claim = %v, want nil", err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				for _, j := range jobs {
					if err := e.s.Ack(e.ctx, j); err != nil {
						t.Errorf("Ack(%s) = %v, want nil", j.Delivery.ID, err)
						continue
					}
					mu.Lock()
					acked[j.Delivery.ID]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(acked) != calls*perCall {
		t.Fatalf("acked %d distinct jobs, want %d", len(acked), calls*perCall)
	}
	for id, n := range acked {
		if n != 1 {
			t.Errorf("job %s acked %d times, want once", id, n)
		}
	}
	e.wantStats(t, store.Stats{Calls: calls, Done: calls * perCall})
}
