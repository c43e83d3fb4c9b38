package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

var replanTests = []subtest{
	{"replan/adds only missing deliveries", testReplan},
	{"replan/leaves dropped deliveries alone unless asked", testReplanDropped},
	{"replan/unknown call", testReplanUnknown},
	{"replan/swept call is unknown", testReplanSwept},
	{"replan/refuses deliveries of another call", testReplanForeign},
	{"replan/delivery listed twice is added once", testReplanTwice},
	{"replan/canceled context writes nothing", testReplanCanceled},
	{"replan/call sids since", testCallSids},
	{"replan/call sids after accept again and sweep", testCallSidsMoved},
}

// testReplan: re-planning a call keeps every existing delivery exactly as
// it is (done ones are not sent again, dead ones stay dead, pending ones
// keep their schedule, claimed ones their lease) and adds the new ones,
// due at the time of the re-plan.
func testReplan(t *testing.T, e *env) {
	const sid = "CA-replan"
	call := e.accept(t, sid, "a-done", "b-dead", "c-pending", "e-claimed")
	var held store.Job
	for _, j := range e.claim(t, 10) {
		var err error
		switch j.Delivery.ID {
		case deliveryID(sid, "a-done"):
			err = e.s.Ack(e.ctx, j)
		case deliveryID(sid, "b-dead"):
			err = e.s.Bury(e.ctx, j, "bad action", "INVALID")
		case deliveryID(sid, "c-pending"):
			err = e.s.Retry(e.ctx, j, e.clock.Now().Add(time.Hour), "later")
		case deliveryID(sid, "e-claimed"):
			held = j
		}
		if err != nil {
			t.Fatalf("settle %s: %v", j.Delivery.ID, err)
		}
	}
	if held.Lease == "" {
		t.Fatalf("Claim did not hand out %s", deliveryID(sid, "e-claimed"))
	}
	before := e.jobs(t, sid)

	// Within the lease of the held job.
	now := e.clock.Advance(lease / 2)
	deliveries := plan(call, "a-done", "b-dead", "c-pending", "d-new", "e-claimed")
	added, err := e.s.Replan(e.ctx, sid, deliveries, store.ReplanOptions{})
	if err != nil {
		t.Fatalf("Replan = %v, want nil", err)
	}
	if added != 1 {
		t.Errorf("Replan added %d, want 1 (only d-new)", added)
	}
	want := []store.JobInfo{
		before[0], before[1], before[2],
		{Job: store.Job{Delivery: deliveries[3], DueAt: now}, State: store.JobPending},
		before[3],
	}
	wantSameJSON(t, "Jobs after Replan", e.jobs(t, sid), want)
	e.wantStats(t, store.Stats{Calls: 1, Pending: 3, Done: 1, Dead: 1})

	// Only the new one is due now; the retried one keeps its time, the
	// held one its lease.
	wantIDs(t, "Claim", jobIDs(e.claim(t, 10)), []string{deliveryID(sid, "d-new")})
	if err := e.s.Ack(e.ctx, held); err != nil {
		t.Errorf("Ack of the job held across Replan = %v, want nil", err)
	}
	again, err := e.s.Replan(e.ctx, sid, plan(call, "d-new"), store.ReplanOptions{})
	if err != nil || again != 0 {
		t.Errorf("second Replan = %d, %v; want 0, nil", again, err)
	}
}

func testReplanUnknown(t *testing.T, e *env) {
	call := newCall("CA-never")
	_, err := e.s.Replan(e.ctx, call.Sid, plan(call, "r"), store.ReplanOptions{})
	wantErr(t, "Replan(unknown)", err, store.ErrNotFound)
	if n := len(e.jobs(t, call.Sid)); n != 0 {
		t.Errorf("Replan of an unknown call wrote %d jobs", n)
	}
	e.wantStats(t, store.Stats{})
}

// testReplanSwept: once Sweep removed a call, it cannot be re-planned,
// although its pending jobs are still there.
func testReplanSwept(t *testing.T, e *env) {
	call := e.accept(t, "CA-swept", "a")
	e.clock.Advance(window + time.Second)
	if _, err := e.s.Sweep(e.ctx); err != nil {
		t.Fatalf("Sweep = %v, want nil", err)
	}
	before := e.jobs(t, call.Sid)
	_, err := e.s.Replan(e.ctx, call.Sid, plan(call, "a", "b"), store.ReplanOptions{})
	wantErr(t, "Replan(swept)", err, store.ErrNotFound)
	wantSameJSON(t, "Jobs after Replan of a swept call", e.jobs(t, call.Sid), before)
}

func testReplanForeign(t *testing.T, e *env) {
	call := e.accept(t, "CA-1", "a")
	before := e.jobs(t, call.Sid)
	other := plan(newCall("CA-2"), "x")[0]
	badID := plan(call, "y")[0]
	badID.ID = forwarder.DeliveryID("CA-2", "y", "web")
	tests := []struct {
		name string
		ds   []forwarder.Delivery
	}{
		{"another call's delivery", append(plan(call, "b"), other)},
		{"ID under another call", append(plan(call, "b"), badID)},
	}
	for _, tc := range tests {
		n, err := e.s.Replan(e.ctx, call.Sid, tc.ds, store.ReplanOptions{})
		if err == nil || errors.Is(err, store.ErrNotFound) || n != 0 {
			t.Errorf("Replan with %s = %d, %v; want 0 and an error other than ErrNotFound", tc.name, n, err)
		}
	}
	wantSameJSON(t, "Jobs after refused Replans", e.jobs(t, call.Sid), before)
	if n := len(e.jobs(t, "CA-2")); n != 0 {
		t.Errorf("refused Replans wrote %d jobs of CA-2", n)
	}
}

func testReplanTwice(t *testing.T, e *env) {
	call := e.accept(t, "CA-twice", "a")
	added, err := e.s.Replan(e.ctx, call.Sid, plan(call, "n", "n"), store.ReplanOptions{})
	if err != nil || added != 1 {
		t.Fatalf("Replan(n, n) = %d, %v; want 1, nil", added, err)
	}
	wantIDs(t, "Jobs", states(e.jobs(t, call.Sid)), []string{
		deliveryID(call.Sid, "a") + "=pending",
		deliveryID(call.Sid, "n") + "=pending",
	})
	e.wantStats(t, store.Stats{Calls: 1, Pending: 2})
}

func testReplanCanceled(t *testing.T, e *env) {
	call := e.accept(t, "CA-1", "a")
	before := e.jobs(t, call.Sid)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	_, err := e.s.Replan(ctx, call.Sid, plan(call, "b"), store.ReplanOptions{})
	wantErr(t, "Replan with a canceled context", err, context.Canceled)
	_, err = e.s.CallSids(ctx, time.Time{}, 0)
	wantErr(t, "CallSids with a canceled context", err, context.Canceled)
	wantSameJSON(t, "Jobs after a canceled Replan", e.jobs(t, call.Sid), before)
}

// callSids returns CallSids(since, limit), failing the test on error.
func (e *env) callSids(t *testing.T, since time.Time, limit int) []string {
	t.Helper()
	sids, err := e.s.CallSids(e.ctx, since, limit)
	if err != nil {
		t.Fatalf("CallSids(%v, %d) = %v, want nil", since, limit, err)
	}
	return sids
}

func testCallSids(t *testing.T, e *env) {
	wantIDs(t, "CallSids of an empty store", e.callSids(t, time.Time{}, 0), nil)
	e.accept(t, "CA-1", "r")
	e.clock.Advance(time.Minute)
	mid := e.clock.Now()
	e.accept(t, "CA-2", "r")
	e.clock.Advance(time.Minute)
	e.accept(t, "CA-3", "r")
	all := []string{"CA-1", "CA-2", "CA-3"}
	tests := []struct {
		name  string
		since time.Time
		limit int
		want  []string
	}{
		{"all", time.Time{}, 0, all},
		{"negative limit", time.Time{}, -1, all},
		{"limit above count", time.Time{}, 10, all},
		{"limit 2", time.Time{}, 2, all[:2]},
		{"since mid (inclusive)", mid, 0, all[1:]},
		{"just after mid", mid.Add(time.Nanosecond), 0, all[2:]},
		{"since mid, limit 1", mid, 1, all[1:2]},
		{"after the last", e.clock.Now().Add(time.Nanosecond), 0, nil},
	}
	for _, tc := range tests {
		wantIDs(t, "CallSids("+tc.name+")", e.callSids(t, tc.since, tc.limit), tc.want)
	}
}

// testCallSidsMoved: a Sid accepted again after its window is listed
// once, at its new time; a swept call is no longer listed.
func testCallSidsMoved(t *testing.T, e *env) {
	e.accept(t, "CA-1", "r")
	e.clock.Advance(time.Minute)
	e.accept(t, "CA-2", "r")
	e.clock.Advance(window - time.Minute)
	again := e.clock.Now()
	e.accept(t, "CA-1", "r")
	wantIDs(t, "CallSids after accept again", e.callSids(t, time.Time{}, 0), []string{"CA-2", "CA-1"})
	wantIDs(t, "CallSids since accept again", e.callSids(t, again, 0), []string{"CA-1"})

	e.clock.Advance(time.Hour)
	if _, err := e.s.Sweep(e.ctx); err != nil {
		t.Fatalf("Sweep = %v, want nil", err)
	}
	wantIDs(t, "CallSids after Sweep", e.callSids(t, time.Time{}, 0), []string{"CA-1"})
}

// testReplanDropped: a dropped dead letter is a decision; Replan leaves
// its tombstone alone unless asked to include dropped deliveries, which
// queues them again, due now and never tried.
func testReplanDropped(t *testing.T, e *env) {
	const sid = "CA-replan-dropped"
	id := deliveryID(sid, "r")
	e.bury(t, sid, "HTTP 400", "400")
	if err := e.s.DropDead(e.ctx, id); err != nil {
		t.Fatalf("DropDead = %v, want nil", err)
	}
	call := newCall(sid)
	added, err := e.s.Replan(e.ctx, sid, plan(call, "r", "s"), store.ReplanOptions{})
	if err != nil || added != 1 {
		t.Fatalf("Replan = %d, %v; want 1, nil", added, err)
	}
	wantIDs(t, "Jobs after Replan", states(e.jobs(t, sid)), []string{id + "=dropped", deliveryID(sid, "s") + "=pending"})
	e.claimOne(t, deliveryID(sid, "s"))

	now := e.clock.Advance(time.Minute)
	added, err = e.s.Replan(e.ctx, sid, plan(call, "r", "s"), store.ReplanOptions{IncludeDropped: true})
	if err != nil || added != 1 {
		t.Fatalf("Replan including dropped = %d, %v; want 1, nil", added, err)
	}
	info := e.job(t, sid, id)
	if info.State != store.JobPending || info.Job.Attempts != 0 || info.Job.Lease != "" {
		t.Fatalf("job after Replan including dropped: %s, Attempts %d, Lease %q; want pending, 0, none",
			info.State, info.Job.Attempts, info.Job.Lease)
	}
	wantTime(t, "DueAt", info.Job.DueAt, now)
	e.claimOne(t, id)
	e.wantStats(t, store.Stats{Calls: 1, Pending: 2})
}
