package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

var ackManyTests = []subtest{
	{"ack many/each job as Ack, lost leases apart", testAckManyMixed},
	{"ack many/none", testAckManyNone},
	{"ack many/large batch", testAckManyLarge},
	{"ack many/done context writes nothing", testAckManyCancelled},
}

// testAckManyMixed acks, in one call, current jobs together with a forged
// lease, a job given twice and an unknown job: each gets its own result,
// and only the current ones are done.
func testAckManyMixed(t *testing.T, e *env) {
	const sid = "CA-many"
	e.accept(t, sid, "r1", "r2", "r3", "r4")
	e.accept(t, "CA-single", "r")
	jobs := e.claim(t, 10)
	byID := map[string]store.Job{}
	for _, j := range jobs {
		byID[j.Delivery.ID] = j
	}
	r1, r2, r3, r4 := byID[deliveryID(sid, "r1")], byID[deliveryID(sid, "r2")], byID[deliveryID(sid, "r3")], byID[deliveryID(sid, "r4")]
	forged := r2
	forged.Lease = "forged"
	unknown := r4
	unknown.Delivery.ID = deliveryID("CA-unknown", "r")
	unknown.Delivery.CallSid = "CA-unknown"
	before2 := e.job(t, sid, r2.Delivery.ID)

	e.clock.Advance(time.Second)
	batch := []store.Job{r1, forged, r3, r3, unknown, r4}
	errs := e.s.AckMany(e.ctx, batch)
	if len(errs) != len(batch) {
		t.Fatalf("AckMany of %d jobs returned %d results", len(batch), len(errs))
	}
	for i, lost := range []bool{false, true, false, true, true, false} {
		what := fmt.Sprintf("AckMany result %d (%s)", i, batch[i].Delivery.ID)
		if lost {
			wantErr(t, what, errs[i], store.ErrLeaseLost)
		} else if errs[i] != nil {
			t.Fatalf("%s = %v, want nil", what, errs[i])
		}
	}

	// The acked jobs look as a single Ack leaves a job.
	single := byID[deliveryID("CA-single", "r")]
	if err := e.s.Ack(e.ctx, single); err != nil {
		t.Fatalf("Ack(%s) = %v, want nil", single.Delivery.ID, err)
	}
	want := e.job(t, "CA-single", single.Delivery.ID)
	for _, j := range []store.Job{r1, r3, r4} {
		got := e.job(t, sid, j.Delivery.ID)
		if got.State != store.JobDone || got.Job.Attempts != 1 || got.Job.Lease != "" {
			t.Fatalf("job %s after AckMany = %+v, want done, 1 attempt, no lease", j.Delivery.ID, got)
		}
		wantTime(t, "DueAt of "+j.Delivery.ID+" after AckMany", got.Job.DueAt, r1.DueAt)
		got.Job.Delivery = want.Job.Delivery
		wantSameJSON(t, j.Delivery.ID+" after AckMany, delivery aside", got, want)
	}
	wantSameJSON(t, "job with the forged lease after AckMany", e.job(t, sid, r2.Delivery.ID), before2)
	e.wantStats(t, store.Stats{Calls: 2, Pending: 1, Done: 4})

	// The job with the forged lease is still claimed under its own lease.
	e.wantNoClaim(t)
	if errs := e.s.AckMany(e.ctx, []store.Job{r2}); errs[0] != nil {
		t.Fatalf("AckMany with the current lease = %v, want nil", errs[0])
	}
	e.wantStats(t, store.Stats{Calls: 2, Done: 5})
}

func testAckManyNone(t *testing.T, e *env) {
	e.accept(t, "CA-none", "r")
	j := e.claimOne(t, deliveryID("CA-none", "r"))
	if errs := e.s.AckMany(e.ctx, nil); len(errs) != 0 {
		t.Fatalf("AckMany(nil) = %v, want no results", errs)
	}
	e.wantStats(t, store.Stats{Calls: 1, Pending: 1})
	if err := e.s.Ack(e.ctx, j); err != nil {
		t.Fatalf("Ack after AckMany(nil) = %v, want nil", err)
	}
}

// testAckManyLarge acks more jobs than a backend may settle in one step,
// with a lost lease among them: the results stay in order.
func testAckManyLarge(t *testing.T, e *env) {
	const calls, rules = 70, 10
	names := make([]string, rules)
	for i := range names {
		names[i] = fmt.Sprintf("r%02d", i)
	}
	for c := range calls {
		e.accept(t, fmt.Sprintf("CA-large-%03d", c), names...)
	}
	jobs := e.claim(t, calls*rules)
	if len(jobs) != calls*rules {
		t.Fatalf("Claim(%d) = %d jobs, want all", calls*rules, len(jobs))
	}
	const stale = 555
	jobs[stale].Lease = "forged"
	errs := e.s.AckMany(e.ctx, jobs)
	if len(errs) != len(jobs) {
		t.Fatalf("AckMany of %d jobs returned %d results", len(jobs), len(errs))
	}
	for i, err := range errs {
		if i == stale {
			wantErr(t, fmt.Sprintf("AckMany result %d (forged lease)", i), err, store.ErrLeaseLost)
		} else if err != nil {
			t.Fatalf("AckMany result %d (%s) = %v, want nil", i, jobs[i].Delivery.ID, err)
		}
	}
	e.wantStats(t, store.Stats{Calls: calls, Pending: 1, Done: calls*rules - 1})
	if got := e.job(t, jobs[stale].Delivery.CallSid, jobs[stale].Delivery.ID); got.State != store.JobPending {
		t.Fatalf("job with the forged lease is %s, want pending", got.State)
	}
}

func testAckManyCancelled(t *testing.T, e *env) {
	e.accept(t, "CA-cancel", "r1", "r2")
	jobs := e.claim(t, 2)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	errs := e.s.AckMany(ctx, jobs)
	if len(errs) != len(jobs) {
		t.Fatalf("AckMany of %d jobs returned %d results", len(jobs), len(errs))
	}
	for i, err := range errs {
		wantErr(t, fmt.Sprintf("AckMany result %d with a done context", i), err, context.Canceled)
	}
	e.wantStats(t, store.Stats{Calls: 1, Pending: 2})
	for i, err := range e.s.AckMany(e.ctx, jobs) {
		if err != nil {
			t.Fatalf("AckMany result %d afterwards = %v, want nil", i, err)
		}
	}
	e.wantStats(t, store.Stats{Calls: 1, Done: 2})
}
