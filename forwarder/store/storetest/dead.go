package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

var deadTests = []subtest{
	{"dead/bury lists the dead letter", testBury},
	{"dead/newest first within limit", testDeadOrder},
	{"dead/retry makes it pending again", testRetryDead},
	{"dead/drop leaves a tombstone", testDropDead},
	{"dead/tombstone outlives its call, then is swept", testDroppedSwept},
	{"dead/only dead letters are found", testDeadNotFound},
}

// bury accepts a call sid with one delivery and buries it.
func (e *env) bury(t *testing.T, sid, reason, code string) store.Job {
	t.Helper()
	e.accept(t, sid, "r")
	j := e.claimOne(t, deliveryID(sid, "r"))
	if err := e.s.Bury(e.ctx, j, reason, code); err != nil {
		t.Fatalf("Bury(%s) = %v, want nil", j.Delivery.ID, err)
	}
	return j
}

// deadLetters lists up to limit dead letters, failing the test on error.
func (e *env) deadLetters(t *testing.T, limit int) []store.DeadLetter {
	t.Helper()
	dls, err := e.s.DeadLetters(e.ctx, limit)
	if err != nil {
		t.Fatalf("DeadLetters(%d) = %v, want nil", limit, err)
	}
	return dls
}

func deadIDs(dls []store.DeadLetter) []string {
	out := make([]string, len(dls))
	for i, dl := range dls {
		out[i] = dl.Job.Delivery.ID
	}
	return out
}

func testBury(t *testing.T, e *env) {
	claimed := e.bury(t, "CA-bury", "invalid measurement id", "400")
	dls := e.deadLetters(t, 0)
	want := claimed
	want.Attempts = 1
	want.LastError = "invalid measurement id"
	want.Lease = ""
	if len(dls) == 1 {
		want.DueAt = dls[0].Job.DueAt // meaningless for a dead letter
	}
	wantSameJSON(t, "DeadLetters", dls, []store.DeadLetter{{Job: want, Reason: "invalid measurement id", Code: "400", At: epoch}})
	e.wantStats(t, store.Stats{Calls: 1, Dead: 1})
	wantIDs(t, "Jobs", states(e.jobs(t, "CA-bury")), []string{deliveryID("CA-bury", "r") + "=dead"})

	// A dead letter never comes back by itself.
	e.clock.Advance(10 * window)
	e.wantNoClaim(t)
}

func testDeadOrder(t *testing.T, e *env) {
	for _, sid := range []string{"CA-1", "CA-2", "CA-3"} {
		e.bury(t, sid, "expired", "")
		e.clock.Advance(time.Second)
	}
	all := []string{deliveryID("CA-3", "r"), deliveryID("CA-2", "r"), deliveryID("CA-1", "r")}
	tests := []struct {
		limit int
		want  []string
	}{
		{0, all},
		{-1, all},
		{2, all[:2]},
		{3, all},
		{10, all},
	}
	for _, tc := range tests {
		wantIDs(t, "DeadLetters", deadIDs(e.deadLetters(t, tc.limit)), tc.want)
	}
}

func testRetryDead(t *testing.T, e *env) {
	const sid = "CA-retry-dead"
	id := deliveryID(sid, "r")
	e.bury(t, sid, "HTTP 400", "400")
	now := e.clock.Advance(time.Hour)
	if err := e.s.RetryDead(e.ctx, id); err != nil {
		t.Fatalf("RetryDead = %v, want nil", err)
	}
	if dls := e.deadLetters(t, 0); len(dls) != 0 {
		t.Fatalf("DeadLetters after RetryDead = %v, want none", deadIDs(dls))
	}
	e.wantStats(t, store.Stats{Calls: 1, Pending: 1})
	info := e.job(t, sid, id)
	if info.State != store.JobPending || info.Job.Attempts != 0 || info.Job.LastError != "HTTP 400" || info.Job.Lease != "" {
		t.Fatalf("job after RetryDead: %s, Attempts %d, LastError %q, Lease %q; want pending, 0, %q, none",
			info.State, info.Job.Attempts, info.Job.LastError, info.Job.Lease, "HTTP 400")
	}
	wantTime(t, "DueAt after RetryDead", info.Job.DueAt, now)
	e.claimOne(t, id)
}

func testDropDead(t *testing.T, e *env) {
	const sid = "CA-drop"
	id := deliveryID(sid, "r")
	e.bury(t, sid, "HTTP 400", "400")
	if err := e.s.DropDead(e.ctx, id); err != nil {
		t.Fatalf("DropDead = %v, want nil", err)
	}
	if dls := e.deadLetters(t, 0); len(dls) != 0 {
		t.Fatalf("DeadLetters after DropDead = %v, want none", deadIDs(dls))
	}
	e.wantStats(t, store.Stats{Calls: 1})
	// The decision is kept as a tombstone: the job is listed as dropped,
	// is never claimed, and is no dead letter any more.
	wantIDs(t, "Jobs after DropDead", states(e.jobs(t, sid)), []string{id + "=dropped"})
	e.clock.Advance(window / 2)
	e.wantNoClaim(t)
	wantErr(t, "second DropDead", e.s.DropDead(e.ctx, id), store.ErrNotFound)
	wantErr(t, "RetryDead after DropDead", e.s.RetryDead(e.ctx, id), store.ErrNotFound)
}

// testDroppedSwept: a tombstone lives the dedup window from its drop,
// like a done mark. While it lives, the Sid accepted again after its own
// window does not plan the dropped delivery again; then Sweep removes it.
func testDroppedSwept(t *testing.T, e *env) {
	const sid = "CA-drop-swept"
	id := deliveryID(sid, "r")
	e.bury(t, sid, "HTTP 400", "400")
	e.clock.Advance(time.Hour)
	if err := e.s.DropDead(e.ctx, id); err != nil {
		t.Fatalf("DropDead = %v, want nil", err)
	}
	e.clock.Advance(window - time.Hour)
	if n, err := e.s.Sweep(e.ctx); err != nil || n != 1 {
		t.Fatalf("Sweep at the call's end = %d, %v; want 1 (the call), nil", n, err)
	}
	call := newCall(sid)
	if err := e.s.Accept(e.ctx, call, plan(call, "r")); err != nil {
		t.Fatalf("Accept after the window = %v, want nil", err)
	}
	wantIDs(t, "Jobs after Accept", states(e.jobs(t, sid)), []string{id + "=dropped"})
	e.wantNoClaim(t)

	e.clock.Advance(time.Hour)
	if n, err := e.s.Sweep(e.ctx); err != nil || n != 1 {
		t.Fatalf("Sweep at the tombstone's end = %d, %v; want 1, nil", n, err)
	}
	if infos := e.jobs(t, sid); len(infos) != 0 {
		t.Fatalf("Jobs after Sweep = %v, want none", states(infos))
	}
	e.wantStats(t, store.Stats{Calls: 1})
}

func testDeadNotFound(t *testing.T, e *env) {
	e.accept(t, "CA-pending", "r")
	e.clock.Advance(time.Second)
	e.accept(t, "CA-done", "r")
	j := e.claimOne(t, deliveryID("CA-pending", "r"))
	if err := e.s.Retry(e.ctx, j, e.clock.Now().Add(time.Hour), "timeout"); err != nil {
		t.Fatalf("Retry = %v, want nil", err)
	}
	j = e.claimOne(t, deliveryID("CA-done", "r"))
	if err := e.s.Ack(e.ctx, j); err != nil {
		t.Fatalf("Ack = %v, want nil", err)
	}
	ops := []struct {
		name string
		op   func(ctx context.Context, id string) error
	}{
		{"RetryDead", e.s.RetryDead},
		{"DropDead", e.s.DropDead},
	}
	for _, op := range ops {
		for _, id := range []string{deliveryID("CA-none", "r"), deliveryID("CA-pending", "r"), deliveryID("CA-done", "r")} {
			wantErr(t, op.name+"("+id+")", op.op(e.ctx, id), store.ErrNotFound)
		}
	}
	wantIDs(t, "Jobs", states(e.jobs(t, "CA-pending")), []string{deliveryID("CA-pending", "r") + "=pending"})
	wantIDs(t, "Jobs", states(e.jobs(t, "CA-done")), []string{deliveryID("CA-done", "r") + "=done"})
	e.wantStats(t, store.Stats{Calls: 2, Pending: 1, Done: 1})
}
