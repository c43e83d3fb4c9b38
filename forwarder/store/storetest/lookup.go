package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

var lookupTests = []subtest{
	{"lookup/call and its jobs", testLookup},
	{"lookup/unknown call", testLookupUnknown},
	{"lookup/stats count every kind", testStats},
	{"lookup/stats earliest due", testStatsEarliestDue},
	{"lookup/ping", testPing},
	{"lookup/canceled context", testCanceled},
}

func testLookup(t *testing.T, e *env) {
	const sid = "CA-lookup"
	call := e.accept(t, sid, "c-dead", "a-done", "b-pending")
	e.accept(t, "CA-lookup-other", "a-done")
	for _, j := range e.claim(t, 10) {
		var err error
		switch j.Delivery.ID {
		case deliveryID(sid, "a-done"):
			err = e.s.Ack(e.ctx, j)
		case deliveryID(sid, "c-dead"):
			err = e.s.Bury(e.ctx, j, "invalid", "400")
		}
		if err != nil {
			t.Fatalf("settle %s = %v, want nil", j.Delivery.ID, err)
		}
	}
	got, err := e.s.Call(e.ctx, sid)
	if err != nil {
		t.Fatalf("Call = %v, want nil", err)
	}
	wantSameJSON(t, "Call", got, call)
	want := []string{
		deliveryID(sid, "a-done") + "=done",
		deliveryID(sid, "b-pending") + "=pending",
		deliveryID(sid, "c-dead") + "=dead",
	}
	wantIDs(t, "Jobs", states(e.jobs(t, sid)), want)
}

func testLookupUnknown(t *testing.T, e *env) {
	e.accept(t, "CA-known", "r")
	wantErr(t, "Call(unknown)", callErr(e, "CA-unknown"), store.ErrNotFound)
	if infos := e.jobs(t, "CA-unknown"); len(infos) != 0 {
		t.Fatalf("Jobs(unknown) = %v, want none", states(infos))
	}
	// A Sid that is a prefix of another does not see the other's jobs.
	if infos := e.jobs(t, "CA-kn"); len(infos) != 0 {
		t.Fatalf("Jobs(CA-kn) = %v, want none", states(infos))
	}
}

func testStats(t *testing.T, e *env) {
	e.wantStats(t, store.Stats{})
	e.accept(t, "CA-1", "a", "b")
	e.accept(t, "CA-2", "a")
	jobs := e.claim(t, 10)
	if len(jobs) != 3 {
		t.Fatalf("Claim(10) = %v, want 3 jobs", jobIDs(jobs))
	}
	if err := e.s.Ack(e.ctx, jobs[0]); err != nil {
		t.Fatalf("Ack = %v, want nil", err)
	}
	if err := e.s.Bury(e.ctx, jobs[1], "invalid", "400"); err != nil {
		t.Fatalf("Bury = %v, want nil", err)
	}
	for range 2 {
		if err := e.s.Reject(e.ctx, store.Rejected{Status: 400, Reason: "bad", Method: "GET"}); err != nil {
			t.Fatalf("Reject = %v, want nil", err)
		}
	}
	// The third job is still claimed: it counts as pending.
	e.wantStats(t, store.Stats{Calls: 2, Pending: 1, Done: 1, Dead: 1, Rejected: 2})
}

// testStatsEarliestDue: EarliestDue is the earliest due time of the
// pending jobs: zero with none pending, a claimed job counted at the end
// of its lease, a retried one at its retry time; a claim whose lease ran
// out leaves its job overdue since the lease's end.
func testStatsEarliestDue(t *testing.T, e *env) {
	var none time.Time
	e.wantEarliestDue(t, none)
	e.accept(t, "CA-1", "a")
	e.wantEarliestDue(t, epoch)
	second := e.clock.Advance(10 * time.Second)
	e.accept(t, "CA-2", "b")
	e.wantEarliestDue(t, epoch) // the older job is the most overdue

	now := e.clock.Advance(5 * time.Second)
	a := e.claimOne(t, deliveryID("CA-1", "a"))
	e.wantEarliestDue(t, second) // a is out of the way until its lease ends
	b := e.claimOne(t, deliveryID("CA-2", "b"))
	e.wantEarliestDue(t, now.Add(lease)) // nothing due: the first lease end
	if err := e.s.Retry(e.ctx, a, now.Add(30*time.Second), "HTTP 503"); err != nil {
		t.Fatalf("Retry = %v, want nil", err)
	}
	e.wantEarliestDue(t, now.Add(30*time.Second))
	if err := e.s.Ack(e.ctx, b); err != nil {
		t.Fatalf("Ack = %v, want nil", err)
	}
	e.wantEarliestDue(t, now.Add(30*time.Second))

	// a's worker dies: after its lease, a is overdue since the lease's end.
	now = e.clock.Advance(30 * time.Second)
	e.claimOne(t, deliveryID("CA-1", "a"))
	e.clock.Advance(lease + time.Minute)
	e.wantEarliestDue(t, now.Add(lease))
	a = e.claimOne(t, deliveryID("CA-1", "a"))
	if err := e.s.Bury(e.ctx, a, "invalid", "400"); err != nil {
		t.Fatalf("Bury = %v, want nil", err)
	}
	e.wantEarliestDue(t, none)
}

func testPing(t *testing.T, e *env) {
	for range 3 {
		if err := e.s.Ping(e.ctx); err != nil {
			t.Fatalf("Ping = %v, want nil", err)
		}
		e.clock.Advance(1)
	}
	e.wantStats(t, store.Stats{})
}

func testCanceled(t *testing.T, e *env) {
	e.accept(t, "CA-1", "a", "b", "c", "d")
	jobs := e.claim(t, 3)
	if err := e.s.Bury(e.ctx, jobs[2], "invalid", "400"); err != nil {
		t.Fatalf("Bury = %v, want nil", err)
	}
	before := e.jobs(t, "CA-1")

	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	dead := jobs[2].Delivery.ID
	ops := []struct {
		name string
		op   func() error
	}{
		{"Reject", func() error { return e.s.Reject(ctx, store.Rejected{Status: 400, Reason: "bad", Method: "GET"}) }},
		{"Claim", func() error { _, err := e.s.Claim(ctx, 10); return err }},
		{"Ack", func() error { return e.s.Ack(ctx, jobs[0]) }},
		{"Retry", func() error { return e.s.Retry(ctx, jobs[1], e.clock.Now(), "x") }},
		{"Bury", func() error { return e.s.Bury(ctx, jobs[0], "x", "") }},
		{"RetryDead", func() error { return e.s.RetryDead(ctx, dead) }},
		{"DropDead", func() error { return e.s.DropDead(ctx, dead) }},
		{"Ping", func() error { return e.s.Ping(ctx) }},
		{"Sweep", func() error { _, err := e.s.Sweep(ctx); return err }},
		{"Stats", func() error { _, err := e.s.Stats(ctx); return err }},
		{"Call", func() error { _, err := e.s.Call(ctx, "CA-1"); return err }},
		{"Jobs", func() error { _, err := e.s.Jobs(ctx, "CA-1"); return err }},
		{"DeadLetters", func() error { _, err := e.s.DeadLetters(ctx, 0); return err }},
		{"RejectedRequests", func() error { _, err := e.s.RejectedRequests(ctx, 0); return err }},
	}
	for _, op := range ops {
		wantErr(t, op.name+" with a canceled context", op.op(), context.Canceled)
	}
	wantSameJSON(t, "Jobs after canceled calls", e.jobs(t, "CA-1"), before)
	e.wantStats(t, store.Stats{Calls: 1, Pending: 3, Dead: 1})
}
