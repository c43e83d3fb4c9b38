package bolt_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// previousRelease is a data directory's store as the previous release
// (60781fc) left it: `forwarder demo` (six webhooks, GA4 and Data Manager
// deliveries, Google's processing report polled: two conversions
// counted, one rejected in processing and dead-lettered), then one more
// call accepted with delivery stopped (three pending jobs) and one
// refused request (no Call.StartDate). It has no tallies and none of the
// newer bookkeeping.
const previousRelease = "testdata/release-60781fc.db"

// TestPreviousRelease opens a store written by the previous release, as
// serve does after an upgrade, and checks that every call, job, verdict,
// dead letter and refused request reads as it was written, that the
// counts are made on open and agree with a recount, and that its work
// goes on: the pending jobs are claimed and delivered, a copy of a
// webhook it accepted is still a duplicate.
func TestPreviousRelease(t *testing.T) {
	data, err := os.ReadFile(previousRelease)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "callforward.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// The store was written on 2026-12-07 around 15:57 UTC; its clock
	// stays there, so the dedup window holds whenever the test runs.
	clock := storetest.NewClock(time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC))
	s := open(t, path, store.Options{Now: clock.Now})
	ctx := t.Context()

	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats = %v", err)
	}
	if want := (store.Stats{Calls: 7, Pending: 3, Done: 10, Dead: 1, Rejected: 1}); st.Calls != want.Calls || st.Pending != want.Pending ||
		st.Done != want.Done || st.Dead != want.Dead || st.Rejected != want.Rejected {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	sids, err := s.CallSids(ctx, time.Time{}, 100)
	if err != nil || len(sids) != 7 {
		t.Fatalf("CallSids = %v, %v; want 7 Sids", sids, err)
	}
	storetest.CheckTallies(t, s, clock.Now(), sids)

	// Google's verdicts on the Data Manager conversions and the dead
	// letter it made of the one it rejected read as written.
	outcomes := map[forwarder.Outcome]int{}
	for _, sid := range sids {
		jobs, err := s.Jobs(ctx, sid)
		if err != nil {
			t.Fatalf("Jobs(%s) = %v", sid, err)
		}
		for _, j := range jobs {
			if v := j.Outcome(); v != nil && j.Job.Delivery.Type == forwarder.DestinationGoogleAds {
				outcomes[v.Outcome]++
			}
		}
	}
	if outcomes[forwarder.OutcomeCounted] != 2 || outcomes[forwarder.OutcomeRejected] != 1 {
		t.Errorf("Google Ads outcomes = %v, want 2 counted and 1 rejected", outcomes)
	}
	dead, err := s.DeadLetters(ctx, 0)
	if err != nil || len(dead) != 1 {
		t.Fatalf("DeadLetters = %d, %v; want 1", len(dead), err)
	}
	if d := dead[0]; d.Kind != store.DeadProcessing || d.Code != "EXPIRED_CLICK" {
		t.Errorf("dead letter: kind %q code %q, want %q EXPIRED_CLICK", d.Kind, d.Code, store.DeadProcessing)
	}
	rejected, err := s.RejectedRequests(ctx, 0)
	if err != nil || len(rejected) != 1 || rejected[0].Field != "Call.StartDate" {
		t.Fatalf("RejectedRequests = %+v, %v; want the one without Call.StartDate", rejected, err)
	}

	// A copy of a webhook the previous release accepted is a duplicate.
	call, err := s.Call(ctx, "CAab12cd34ef56ab78cd90ef12ab34cd56")
	if err != nil {
		t.Fatalf("Call = %v", err)
	}
	if err := s.Accept(ctx, call, nil); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("Accept of a copy = %v, want %v", err, store.ErrDuplicate)
	}

	// Its pending jobs are claimed whole and delivered.
	jobs, err := s.Claim(ctx, 10)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("Claim = %d jobs, %v; want the 3 pending", len(jobs), err)
	}
	var ids []string
	for _, j := range jobs {
		d := j.Delivery
		ids = append(ids, d.ID)
		if d.CallSid != "CAfixturepending0000000000000001" || (d.GA4 == nil && d.Ads == nil) {
			t.Errorf("claimed %s: %+v, want a delivery of the pending call with its payload", d.ID, d)
		}
	}
	for i, err := range s.AckMany(ctx, jobs) {
		if err != nil {
			t.Errorf("Ack(%s) = %v", ids[i], err)
		}
	}
	slices.Sort(ids)
	if st, err := s.Stats(ctx); err != nil || st.Pending != 0 || st.Done != 13 {
		t.Errorf("Stats after delivering %v = %+v, %v; want 0 pending, 13 done", ids, st, err)
	}
	storetest.CheckTallies(t, s, clock.Now(), sids)

	// Past the dedup window the sweep takes every done job, those the
	// previous release wrote (the record in the jobs bucket) and those
	// done now (the record in the done index) alike; the dead letter
	// stays. (The window is the default, 30 days.)
	clock.Advance(31 * 24 * time.Hour)
	for {
		n, err := s.Sweep(ctx)
		if err != nil {
			t.Fatalf("Sweep = %v", err)
		}
		if n == 0 {
			break
		}
	}
	if st, err := s.Stats(ctx); err != nil || st.Done != 0 || st.Dead != 1 || st.Calls != 0 {
		t.Errorf("Stats after the sweep = %+v, %v; want nothing done, the dead letter, no call", st, err)
	}
	storetest.CheckTallies(t, s, clock.Now(), sids)
}
