package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

var acceptTests = []subtest{
	{"accept/stores call and pending jobs", testAcceptStores},
	{"accept/duplicate writes nothing", testAcceptDuplicate},
	{"accept/one pending job per delivery", testAcceptAtomic},
	{"accept/refuses invalid input", testAcceptInvalid},
	{"accept/canceled context writes nothing", testAcceptCanceled},
}

func testAcceptStores(t *testing.T, e *env) {
	call := newCall("CA-stores")
	deliveries := plan(call, "b-qualified", "a-every")
	if err := e.s.Accept(e.ctx, call, deliveries); err != nil {
		t.Fatalf("Accept = %v, want nil", err)
	}
	e.wantStats(t, store.Stats{Calls: 1, Pending: 2})

	got, err := e.s.Call(e.ctx, call.Sid)
	if err != nil {
		t.Fatalf("Call = %v, want nil", err)
	}
	wantSameJSON(t, "Call", got, call)

	// Jobs are ordered by delivery ID, each due now and never tried.
	want := []store.JobInfo{
		{Job: store.Job{Delivery: deliveries[1], DueAt: epoch}, State: store.JobPending},
		{Job: store.Job{Delivery: deliveries[0], DueAt: epoch}, State: store.JobPending},
	}
	wantSameJSON(t, "Jobs", e.jobs(t, call.Sid), want)
}

func testAcceptDuplicate(t *testing.T, e *env) {
	first := e.accept(t, "CA-dup", "a", "b")
	before := e.jobs(t, first.Sid)

	// A later copy, even with other content and another plan, is a
	// duplicate up to the last nanosecond of the window.
	e.clock.Advance(window - time.Nanosecond)
	again := newCall(first.Sid)
	again.Disposition = forwarder.DispositionBusy
	err := e.s.Accept(e.ctx, again, plan(again, "a", "b", "c"))
	wantErr(t, "second Accept", err, store.ErrDuplicate)

	e.wantStats(t, store.Stats{Calls: 1, Pending: 2})
	got, err := e.s.Call(e.ctx, first.Sid)
	if err != nil {
		t.Fatalf("Call = %v, want nil", err)
	}
	wantSameJSON(t, "Call after duplicate", got, first)
	wantSameJSON(t, "Jobs after duplicate", e.jobs(t, first.Sid), before)
}

func testAcceptAtomic(t *testing.T, e *env) {
	tests := []struct {
		sid   string
		rules []string
	}{
		{"CA-none", nil},
		{"CA-one", []string{"r0"}},
		{"CA-five", []string{"r0", "r1", "r2", "r3", "r4"}},
	}
	pending := 0
	for _, tc := range tests {
		e.accept(t, tc.sid, tc.rules...)
		pending += len(tc.rules)
		infos := e.jobs(t, tc.sid)
		if len(infos) != len(tc.rules) {
			t.Fatalf("Jobs(%s) = %v, want %d jobs", tc.sid, states(infos), len(tc.rules))
		}
		for i, info := range infos {
			if id := deliveryID(tc.sid, tc.rules[i]); info.Job.Delivery.ID != id || info.State != store.JobPending {
				t.Fatalf("Jobs(%s)[%d] = %s %s, want %s pending", tc.sid, i, info.Job.Delivery.ID, info.State, id)
			}
		}
	}
	e.wantStats(t, store.Stats{Calls: len(tests), Pending: pending})
	if jobs := e.claim(t, 100); len(jobs) != pending {
		t.Fatalf("Claim(100) = %d jobs, want %d", len(jobs), pending)
	}
}

func testAcceptInvalid(t *testing.T, e *env) {
	foreign := newCall("CA-other")
	tests := []struct {
		name       string
		call       *forwarder.Call
		deliveries func(*forwarder.Call) []forwarder.Delivery
	}{
		{"no sid", newCall(""), func(*forwarder.Call) []forwarder.Delivery { return nil }},
		{"delivery of another call", newCall("CA-1"), func(c *forwarder.Call) []forwarder.Delivery {
			return append(plan(c, "a"), plan(foreign, "b")...)
		}},
		{"delivery ID not under the sid", newCall("CA-2"), func(c *forwarder.Call) []forwarder.Delivery {
			ds := plan(c, "a")
			ds[0].ID = "elsewhere/a/web"
			return ds
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.s.Accept(e.ctx, tc.call, tc.deliveries(tc.call))
			if err == nil || errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("Accept = %v, want an input error", err)
			}
			e.wantStats(t, store.Stats{})
		})
	}
}

func testAcceptCanceled(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	call := newCall("CA-canceled")
	err := e.s.Accept(ctx, call, plan(call, "a"))
	wantErr(t, "Accept with canceled context", err, context.Canceled)
	e.wantStats(t, store.Stats{})
	wantErr(t, "Call", callErr(e, call.Sid), store.ErrNotFound)
}

// callErr returns the error of looking up call sid.
func callErr(e *env, sid string) error {
	_, err := e.s.Call(e.ctx, sid)
	return err
}

var dedupTests = []subtest{
	{"dedup/expires after the window", testDedupExpires(false)},
	{"dedup/expires after the window and a sweep", testDedupExpires(true)},
	{"dedup/done mark outlives the dedup mark", testDedupDoneMark},
}

// testDedupExpires accepts a Sid again once its window has passed, with
// or without a sweep in between: the result must be the same.
func testDedupExpires(sweep bool) func(t *testing.T, e *env) {
	return func(t *testing.T, e *env) {
		const sid = "CA-expires"
		call := e.accept(t, sid, "acked", "retried")
		// acked becomes a done mark at once; retried is tried and left
		// pending for much later.
		for _, j := range e.claim(t, 10) {
			var err error
			if j.Delivery.ID == deliveryID(sid, "acked") {
				err = e.s.Ack(e.ctx, j)
			} else {
				err = e.s.Retry(e.ctx, j, e.clock.Now().Add(10*window), "HTTP 503")
			}
			if err != nil {
				t.Fatalf("settle %s = %v, want nil", j.Delivery.ID, err)
			}
		}
		retried := e.job(t, sid, deliveryID(sid, "retried"))

		e.clock.Advance(window)
		if sweep {
			if _, err := e.s.Sweep(e.ctx); err != nil {
				t.Fatalf("Sweep = %v, want nil", err)
			}
		}
		again := newCall(sid)
		again.Disposition = forwarder.DispositionNoAnswer
		if err := e.s.Accept(e.ctx, again, plan(again, "acked", "retried")); err != nil {
			t.Fatalf("Accept after the window = %v, want nil", err)
		}
		got, err := e.s.Call(e.ctx, sid)
		if err != nil {
			t.Fatalf("Call = %v, want nil", err)
		}
		wantSameJSON(t, "Call after re-accept", got, again)

		// The expired done mark is planned again; the pending job is kept
		// as it was.
		acked := e.job(t, sid, deliveryID(sid, "acked"))
		if acked.State != store.JobPending || acked.Job.Attempts != 0 {
			t.Fatalf("acked job after re-accept: %s with %d attempts, want pending with 0", acked.State, acked.Job.Attempts)
		}
		wantTime(t, "acked job DueAt", acked.Job.DueAt, e.clock.Now())
		wantSameJSON(t, "retried job after re-accept", e.job(t, sid, deliveryID(sid, "retried")), retried)
		e.wantStats(t, store.Stats{Calls: 1, Pending: 2})

		err = e.s.Accept(e.ctx, call, plan(call, "acked"))
		wantErr(t, "Accept in the new window", err, store.ErrDuplicate)
	}
}

func testDedupDoneMark(t *testing.T, e *env) {
	const sid = "CA-done-mark"
	e.accept(t, sid, "a", "b")
	e.clock.Advance(time.Hour)
	for _, j := range e.claim(t, 10) {
		var err error
		if j.Delivery.ID == deliveryID(sid, "a") {
			err = e.s.Ack(e.ctx, j)
		} else {
			err = e.s.Bury(e.ctx, j, "invalid event", "400")
		}
		if err != nil {
			t.Fatalf("settle %s = %v, want nil", j.Delivery.ID, err)
		}
	}

	// The dedup mark has expired, the done mark (an hour younger) has not:
	// re-planning the call adds c but sends a no second time, and leaves
	// the dead letter b alone.
	e.clock.Advance(window - time.Hour)
	call := newCall(sid)
	if err := e.s.Accept(e.ctx, call, plan(call, "a", "b", "c")); err != nil {
		t.Fatalf("Accept after the window = %v, want nil", err)
	}
	want := []string{
		deliveryID(sid, "a") + "=done",
		deliveryID(sid, "b") + "=dead",
		deliveryID(sid, "c") + "=pending",
	}
	wantIDs(t, "Jobs", states(e.jobs(t, sid)), want)
	e.wantStats(t, store.Stats{Calls: 1, Pending: 1, Done: 1, Dead: 1})
	e.claimOne(t, deliveryID(sid, "c"))
}
