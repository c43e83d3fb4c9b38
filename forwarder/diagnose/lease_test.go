package diagnose_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/store"
)

// leaseWatch records the lease end of each poll claimed, and every
// requestStatus:retrieve that reached the emulator at or after the lease
// end of its request's poll.
type leaseWatch struct {
	mu     sync.Mutex
	ends   map[string]time.Time // request id: lease end of its latest claim
	asked  int
	late   int
	claims int
}

// claimsOf wraps a store: its claimed polls' lease ends are recorded.
type claimsOf struct {
	store.Diagnostics
	w *leaseWatch
}

func (c claimsOf) ClaimPolls(ctx context.Context, max int) ([]store.Poll, error) {
	polls, err := c.Diagnostics.ClaimPolls(ctx, max)
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	for _, p := range polls {
		c.w.ends[p.RequestID] = p.DueAt
		c.w.claims++
	}
	return polls, err
}

// handler checks each retrieve as it arrives, before the emulator's delay.
func (w *leaseWatch) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/requestStatus:retrieve" {
			at := time.Now()
			w.mu.Lock()
			w.asked++
			if end, ok := w.ends[r.URL.Query().Get("requestId")]; !ok || !at.Before(end) {
				w.late++
			}
			w.mu.Unlock()
		}
		next.ServeHTTP(rw, r)
	})
}

// TestPollerAsksOnlyWithinLease: Google answers slowly, so a poll claimed
// with others could wait for a worker past its lease, when another
// instance may claim and ask about the same request; and a lease too
// short for the timeout and a margin leaves no time to ask at all. No
// request reaches Google after its poll's lease ended.
func TestPollerAsksOnlyWithinLease(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		lease     time.Duration
		delay     time.Duration
		runFor    time.Duration
		wantAsked int
	}{
		// One worker, four requests due: 0.8 s each, 2 s leases.
		{name: "slow answers", lease: 2 * time.Second, delay: 800 * time.Millisecond, runFor: 4500 * time.Millisecond, wantAsked: 4},
		// 1 s timeout plus a tenth of the lease outlasts the lease.
		{name: "lease too short for the timeout", lease: 1050 * time.Millisecond, runFor: 2500 * time.Millisecond, wantAsked: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := &leaseWatch{ends: map[string]time.Time{}}
			e := newPollEnvWith(t, emulator.ProcessingConfig{DelayMS: int64(time.Hour / time.Millisecond)}, envOptions{
				lease: tt.lease, realClock: true, first: -time.Second, workers: 1, timeout: time.Second,
				handler: w.handler, store: func(st store.Diagnostics) store.Diagnostics { return claimsOf{st, w} },
			})
			for range 4 {
				e.send(t, "OK-0")
			}
			e.em.SetFaults(emulator.Faults{Delay: tt.delay})
			ctx, cancel := context.WithTimeout(context.Background(), tt.runFor)
			defer cancel()
			for ctx.Err() == nil {
				if e.p.Round(ctx) == 0 {
					time.Sleep(10 * time.Millisecond)
				}
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.late != 0 || w.asked != tt.wantAsked || w.claims < 4 {
				t.Errorf("%d of %d requests asked about after their poll's lease ended (%d claims); want none late, %d asked, every poll claimed",
					w.late, w.asked, w.claims, tt.wantAsked)
			}
		})
	}
}
