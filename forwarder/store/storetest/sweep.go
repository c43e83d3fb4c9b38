package storetest

import (
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

var sweepTests = []subtest{
	{"sweep/removes the expired, keeps the unsettled", testSweep},
}

func testSweep(t *testing.T, e *env) {
	const old, young = "CA-old", "CA-young"
	e.accept(t, old, "acked", "buried", "retried", "claimed")
	for _, j := range e.claim(t, 10) {
		var err error
		switch j.Delivery.ID {
		case deliveryID(old, "acked"):
			err = e.s.Ack(e.ctx, j)
		case deliveryID(old, "buried"):
			err = e.s.Bury(e.ctx, j, "invalid", "400")
		case deliveryID(old, "retried"):
			err = e.s.Retry(e.ctx, j, e.clock.Now().Add(3*window), "timeout")
		}
		if err != nil {
			t.Fatalf("settle %s = %v, want nil", j.Delivery.ID, err)
		}
	}
	if err := e.s.Reject(e.ctx, store.Rejected{Status: 400, Reason: "old", Method: "GET"}); err != nil {
		t.Fatalf("Reject = %v, want nil", err)
	}

	e.clock.Advance(window / 2)
	e.accept(t, young, "acked")
	// The old claimed job's lease has ended: it is claimed again and left so.
	for _, j := range e.claim(t, 10) {
		if j.Delivery.ID != deliveryID(young, "acked") {
			continue
		}
		if err := e.s.Ack(e.ctx, j); err != nil {
			t.Fatalf("Ack = %v, want nil", err)
		}
	}
	if err := e.s.Reject(e.ctx, store.Rejected{Status: 400, Reason: "young", Method: "GET"}); err != nil {
		t.Fatalf("Reject = %v, want nil", err)
	}

	// Nothing has aged out yet.
	e.clock.Advance(window/2 - time.Second)
	if n, err := e.s.Sweep(e.ctx); err != nil || n != 0 {
		t.Fatalf("early Sweep = %d, %v; want 0, nil", n, err)
	}

	// The old call, its done mark and the old rejected request go; its
	// pending (claimed or retried) and dead jobs stay.
	e.clock.Advance(2 * time.Second)
	n, err := e.s.Sweep(e.ctx)
	if err != nil || n != 3 {
		t.Fatalf("Sweep = %d, %v; want 3, nil", n, err)
	}
	e.wantStats(t, store.Stats{Calls: 1, Pending: 2, Done: 1, Dead: 1, Rejected: 1})
	wantErr(t, "Call(old)", callErr(e, old), store.ErrNotFound)
	if _, err := e.s.Call(e.ctx, young); err != nil {
		t.Fatalf("Call(young) = %v, want nil", err)
	}
	wantIDs(t, "Jobs(old)", states(e.jobs(t, old)), []string{
		deliveryID(old, "buried") + "=dead",
		deliveryID(old, "claimed") + "=pending",
		deliveryID(old, "retried") + "=pending",
	})
	wantIDs(t, "DeadLetters", deadIDs(e.deadLetters(t, 0)), []string{deliveryID(old, "buried")})
	rejected, err := e.s.RejectedRequests(e.ctx, 0)
	if err != nil || len(rejected) != 1 || rejected[0].Reason != "young" {
		t.Fatalf("RejectedRequests = %+v, %v; want the young one", rejected, err)
	}

	if n, err := e.s.Sweep(e.ctx); err != nil || n != 0 {
		t.Fatalf("second Sweep = %d, %v; want 0, nil", n, err)
	}
	// The old Sid is a new call again.
	e.accept(t, old, "fresh")
}
