package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

var extendTests = []subtest{
	{"extend/moves the lease end", testExtendMoves},
	{"extend/each job its own result, lost leases apart", testExtendMixed},
	{"extend/never shortens a lease", testExtendNeverShortens},
	{"extend/done context writes nothing", testExtendCancelled},
}

// testExtendMoves: an extended job stays hidden until its new lease end,
// keeps its lease token (so its holder can still settle it), and comes
// back by itself after the new end.
func testExtendMoves(t *testing.T, e *env) {
	const sid = "CA-extend"
	id := deliveryID(sid, "r")
	e.accept(t, sid, "r")
	j := e.claimOne(t, id)

	e.clock.Advance(lease / 2)
	if errs := e.s.Extend(e.ctx, []store.Job{j}, lease); len(errs) != 1 || errs[0] != nil {
		t.Fatalf("Extend = %v, want [nil]", errs)
	}
	newEnd := e.clock.Now().Add(lease)
	info := e.job(t, sid, id)
	wantTime(t, "extended job DueAt", info.Job.DueAt, newEnd)
	if info.State != store.JobPending || info.Job.Lease != j.Lease || info.Job.Attempts != 0 {
		t.Fatalf("extended job = %+v, want pending under lease %q, 0 attempts", info, j.Lease)
	}
	e.wantEarliestDue(t, newEnd)

	// The first lease end passes: the job stays with its holder.
	e.clock.Advance(lease / 2)
	e.wantNoClaim(t)
	e.clock.Advance(lease/2 - time.Nanosecond)
	e.wantNoClaim(t)

	// The holder extends again and settles with the lease it claimed.
	if errs := e.s.Extend(e.ctx, []store.Job{j}, lease); errs[0] != nil {
		t.Fatalf("second Extend = %v, want nil", errs[0])
	}
	if err := e.s.Ack(e.ctx, j); err != nil {
		t.Fatalf("Ack of the extended job = %v, want nil", err)
	}
	e.wantStats(t, store.Stats{Calls: 1, Done: 1})

	// A job no longer extended comes back at its new lease end.
	const sid2 = "CA-extend-2"
	id2 := deliveryID(sid2, "r")
	e.accept(t, sid2, "r")
	j2 := e.claimOne(t, id2)
	e.clock.Advance(time.Second)
	if errs := e.s.Extend(e.ctx, []store.Job{j2}, 2*lease); errs[0] != nil {
		t.Fatalf("Extend = %v, want nil", errs[0])
	}
	e.clock.Advance(2*lease - time.Nanosecond)
	e.wantNoClaim(t)
	e.clock.Advance(time.Nanosecond)
	again := e.claimOne(t, id2)
	if again.Lease == j2.Lease {
		t.Fatalf("job claimed again after its extended lease kept lease %q", again.Lease)
	}
	wantErr(t, "Ack with the extended but ended lease", e.s.Ack(e.ctx, j2), store.ErrLeaseLost)
}

// testExtendMixed extends, in one call, a current job together with a
// job claimed again by another worker after its lease ended, a settled
// job, a forged lease and an unknown job, and the other worker's claim:
// each gets its own result, and only the current claims are extended.
func testExtendMixed(t *testing.T, e *env) {
	const sid = "CA-extend-many"
	e.accept(t, sid, "r1", "r2", "r3", "r4")
	byID := map[string]store.Job{}
	for _, j := range e.claim(t, 10) {
		byID[j.Delivery.ID] = j
	}
	r1, r2, r3, r4 := byID[deliveryID(sid, "r1")], byID[deliveryID(sid, "r2")], byID[deliveryID(sid, "r3")], byID[deliveryID(sid, "r4")]
	if err := e.s.Ack(e.ctx, r3); err != nil {
		t.Fatalf("Ack(%s) = %v, want nil", r3.Delivery.ID, err)
	}
	// r1 and r4 are kept; r2's lease ends and another worker claims it.
	e.clock.Advance(time.Second)
	if errs := e.s.Extend(e.ctx, []store.Job{r1, r4}, lease); errs[0] != nil || errs[1] != nil {
		t.Fatalf("Extend(r1, r4) = %v, want no errors", errs)
	}
	keptUntil := e.clock.Now().Add(lease)
	e.clock.Advance(lease - time.Second)
	other := e.claimOne(t, r2.Delivery.ID)
	forged := r4
	forged.Lease = "forged"
	unknown := r1
	unknown.Delivery.ID = deliveryID("CA-unknown", "r")
	unknown.Delivery.CallSid = "CA-unknown"

	e.clock.Advance(time.Second)
	batch := []store.Job{r1, r2, r3, forged, unknown, other}
	errs := e.s.Extend(e.ctx, batch, lease)
	if len(errs) != len(batch) {
		t.Fatalf("Extend of %d jobs returned %d results", len(batch), len(errs))
	}
	for i, lost := range []bool{false, true, true, true, true, false} {
		what := fmt.Sprintf("Extend result %d (%s)", i, batch[i].Delivery.ID)
		if lost {
			wantErr(t, what, errs[i], store.ErrLeaseLost)
		} else if errs[i] != nil {
			t.Fatalf("%s = %v, want nil", what, errs[i])
		}
	}
	end := e.clock.Now().Add(lease)
	wantTime(t, "DueAt of the extended "+r1.Delivery.ID, e.job(t, sid, r1.Delivery.ID).Job.DueAt, end)
	gotOther := e.job(t, sid, other.Delivery.ID)
	wantTime(t, "DueAt of the current claim of "+other.Delivery.ID, gotOther.Job.DueAt, end)
	if gotOther.Job.Lease != other.Lease {
		t.Fatalf("lease of %s after Extend = %q, want the current claim's %q", other.Delivery.ID, gotOther.Job.Lease, other.Lease)
	}
	got4 := e.job(t, sid, r4.Delivery.ID)
	wantTime(t, "DueAt of "+r4.Delivery.ID+" after Extend with a forged lease", got4.Job.DueAt, keptUntil)
	if got4.Job.Lease != r4.Lease {
		t.Fatalf("lease of %s after Extend with a forged lease = %q, want %q", r4.Delivery.ID, got4.Job.Lease, r4.Lease)
	}
	if info := e.job(t, sid, r3.Delivery.ID); info.State != store.JobDone || info.Job.Lease != "" {
		t.Fatalf("settled job after Extend = %+v, want done, no lease", info)
	}
	e.wantStats(t, store.Stats{Calls: 1, Pending: 3, Done: 1})
}

// testExtendNeverShortens: extending by less than the lease has left
// keeps the lease end.
func testExtendNeverShortens(t *testing.T, e *env) {
	const sid = "CA-extend-short"
	id := deliveryID(sid, "r")
	e.accept(t, sid, "r")
	j := e.claimOne(t, id)
	e.clock.Advance(time.Second)
	if errs := e.s.Extend(e.ctx, []store.Job{j}, time.Second); errs[0] != nil {
		t.Fatalf("Extend = %v, want nil", errs[0])
	}
	wantTime(t, "DueAt after a shorter Extend", e.job(t, sid, id).Job.DueAt, epoch.Add(lease))
	e.wantEarliestDue(t, epoch.Add(lease))
}

func testExtendCancelled(t *testing.T, e *env) {
	const sid = "CA-extend-cancel"
	id := deliveryID(sid, "r")
	e.accept(t, sid, "r")
	j := e.claimOne(t, id)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	e.clock.Advance(time.Second)
	errs := e.s.Extend(ctx, []store.Job{j}, lease)
	if len(errs) != 1 {
		t.Fatalf("Extend of 1 job returned %d results", len(errs))
	}
	wantErr(t, "Extend with a done context", errs[0], context.Canceled)
	wantTime(t, "DueAt after Extend with a done context", e.job(t, sid, id).Job.DueAt, epoch.Add(lease))
}
