package storetest

import (
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// eventTests check that dedup is keyed by event and Call.Sid: Call.Sid
// names the call, so the Call.Initiate and the Call.Complete of one call
// share it and must not dedup each other.
var eventTests = []subtest{
	{"dedup by event/initiate then complete", testInitiateThenComplete},
	{"dedup by event/late initiate keeps the complete", testLateInitiate},
	{"dedup by event/each event has its own window", testEventWindows(false)},
	{"dedup by event/each event has its own window and a sweep", testEventWindows(true)},
}

// newInitiate returns the Call.Initiate of the call sid: no duration, no
// disposition yet.
func newInitiate(sid string) *forwarder.Call {
	call := newCall(sid)
	call.Action, call.Event = "Call.Initiate", forwarder.EventInitiate
	call.Duration, call.Disposition = nil, ""
	return call
}

// acceptCall accepts call with one delivery per rule, failing the test on
// error.
func (e *env) acceptCall(t *testing.T, call *forwarder.Call, rules ...string) {
	t.Helper()
	if err := e.s.Accept(e.ctx, call, plan(call, rules...)); err != nil {
		t.Fatalf("Accept(%s %s) = %v, want nil", call.Event, call.Sid, err)
	}
}

// wantDuplicate checks that call is refused as a duplicate.
func (e *env) wantDuplicate(t *testing.T, call *forwarder.Call, rules ...string) {
	t.Helper()
	err := e.s.Accept(e.ctx, call, plan(call, rules...))
	wantErr(t, "Accept("+string(call.Event)+" "+call.Sid+") again", err, store.ErrDuplicate)
}

// wantCall checks the call stored under want.Sid.
func (e *env) wantCall(t *testing.T, what string, want *forwarder.Call) {
	t.Helper()
	got, err := e.s.Call(e.ctx, want.Sid)
	if err != nil {
		t.Fatalf("Call(%s) = %v, want nil", want.Sid, err)
	}
	wantSameJSON(t, what, got, want)
}

func testInitiateThenComplete(t *testing.T, e *env) {
	const sid = "CA-initiate-complete"
	// An Initiate that no rule wants is stored all the same (ingest
	// records ignored calls), with no delivery.
	initiate := newInitiate(sid)
	e.acceptCall(t, initiate)
	e.clock.Advance(95 * time.Second)

	complete := newCall(sid)
	e.acceptCall(t, complete, "a")
	wantIDs(t, "Jobs", states(e.jobs(t, sid)), []string{deliveryID(sid, "a") + "=pending"})
	e.wantCall(t, "Call after the Complete", complete)
	e.wantStats(t, store.Stats{Calls: 1, Pending: 1})

	// Copies of either event are duplicates and change nothing.
	e.wantDuplicate(t, newCall(sid), "a", "b")
	e.wantDuplicate(t, newInitiate(sid), "c")
	wantIDs(t, "Jobs after copies", states(e.jobs(t, sid)), []string{deliveryID(sid, "a") + "=pending"})
	e.wantCall(t, "Call after copies", complete)
	e.claimOne(t, deliveryID(sid, "a"))
}

func testLateInitiate(t *testing.T, e *env) {
	const sid = "CA-late-initiate"
	complete := newCall(sid)
	e.acceptCall(t, complete, "a")
	e.clock.Advance(time.Second)

	// An Initiate arriving after its Complete is accepted and planned, but
	// the stored call stays the Complete, which says more.
	e.acceptCall(t, newInitiate(sid), "start")
	want := []string{deliveryID(sid, "a") + "=pending", deliveryID(sid, "start") + "=pending"}
	wantIDs(t, "Jobs", states(e.jobs(t, sid)), want)
	e.wantCall(t, "Call after the late Initiate", complete)
	e.wantDuplicate(t, newInitiate(sid))
	e.wantDuplicate(t, newCall(sid))
	e.wantStats(t, store.Stats{Calls: 1, Pending: 2})
}

// testEventWindows: each event's mark lives its own window, counted from
// its own acceptance, with or without a sweep in between.
func testEventWindows(sweep bool) func(t *testing.T, e *env) {
	return func(t *testing.T, e *env) {
		const sid = "CA-windows"
		e.acceptCall(t, newInitiate(sid))
		e.clock.Advance(time.Hour)
		complete := newCall(sid)
		e.acceptCall(t, complete, "a")

		// The Initiate's window is over, the Complete's is not.
		e.clock.Advance(window - time.Hour)
		if sweep {
			if _, err := e.s.Sweep(e.ctx); err != nil {
				t.Fatalf("Sweep = %v, want nil", err)
			}
		}
		e.wantDuplicate(t, newCall(sid), "a")
		e.acceptCall(t, newInitiate(sid))
		e.wantCall(t, "Call after a new Initiate", complete)

		// Then the Complete's is over too.
		e.clock.Advance(time.Hour)
		if sweep {
			if _, err := e.s.Sweep(e.ctx); err != nil {
				t.Fatalf("Sweep = %v, want nil", err)
			}
		}
		again := newCall(sid)
		again.Disposition = forwarder.DispositionBusy
		e.acceptCall(t, again)
		e.wantCall(t, "Call after the Complete's window", again)
		e.wantDuplicate(t, newInitiate(sid))
		e.wantDuplicate(t, newCall(sid))
	}
}
