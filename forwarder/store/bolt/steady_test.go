package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// TestFileStopsGrowing runs the store as a steady day after day: every
// "day" the same number of calls is accepted and delivered, and the
// sweep removes what has left the dedup window. The pages the sweep
// frees are reused, so once the window is full the file keeps its size:
// it grows while the first window fills, then no more.
func TestFileStopsGrowing(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "callforward.db")
	const window, perDay, days = 3, 1000, 10
	s, err := Open(path, store.Options{DedupWindow: window * 24 * time.Hour, Lease: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	sizes := make([]int64, days)
	for day := range days {
		// Accepts arrive together, as webhooks do, and share commits.
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				for i := w; i < perDay; i += 16 {
					sid := fmt.Sprintf("CA%02d%06d", day, (i*7919)%perDay) // not in key order, as real Sids
					call := &forwarder.Call{Sid: sid, Event: forwarder.EventComplete, StartDate: clock.Now()}
					var ds []forwarder.Delivery
					for _, rule := range []string{"every-call", "qualified", "ads"} {
						ds = append(ds, forwarder.Delivery{ID: forwarder.DeliveryID(sid, rule, "web"), CallSid: sid, Rule: rule,
							Destination: "web", Type: forwarder.DestinationGA4, CallTime: call.StartDate,
							GA4: &forwarder.GA4Event{MeasurementID: "G-STEADY", ClientID: "1.2", Name: rule, Time: call.StartDate}})
					}
					if err := s.Accept(ctx, call, ds); err != nil {
						t.Errorf("day %d: Accept(%s) = %v", day, sid, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		for {
			jobs, err := s.Claim(ctx, 500)
			if err != nil {
				t.Fatalf("day %d: Claim = %v", day, err)
			}
			if len(jobs) == 0 {
				break
			}
			for i, err := range s.AckMany(ctx, jobs) {
				if err != nil {
					t.Fatalf("day %d: Ack(%s) = %v", day, jobs[i].Delivery.ID, err)
				}
			}
		}
		clock.Advance(24 * time.Hour)
		if _, err := s.Sweep(ctx); err != nil {
			t.Fatalf("day %d: Sweep = %v", day, err)
		}
		// The size in use (the highest page written) grows page by page,
		// where the file grows by doubling its memory map.
		if err := s.db.View(func(tx *bbolt.Tx) error { sizes[day] = tx.Size(); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("file %d bytes; in use by day (window %d days, %d calls a day): %v", fi.Size(), window, perDay, sizes)
	// From a few days past the window on, the store is as large as it
	// will get: what the sweep frees is reused. A store that did not reuse
	// pages would grow by a day's calls every day (about what each of the
	// first days added); page placement and how the accepts group into
	// commits may still move the high mark by a few dozen pages, so the
	// growth over the last days may be at most a quarter of one day's.
	settled := window + 2
	dayGrowth := (sizes[window-1] - sizes[0]) / (window - 1)
	if dayGrowth <= 0 {
		t.Fatalf("in use by day %v: the first days did not grow the store", sizes)
	}
	bound := sizes[settled] + dayGrowth/4
	for day := settled + 1; day < days; day++ {
		if sizes[day] > bound {
			t.Errorf("day %d: %d bytes in use, more than on day %d (%d) and a quarter of a day's growth (%d): freed pages are not reused",
				day, sizes[day], settled, sizes[settled], dayGrowth/4)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls > (window+1)*perDay {
		t.Errorf("Stats.Calls = %d after sweeping, want at most %d (the window's calls)", st.Calls, (window+1)*perDay)
	}
}
