package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

var historyTests = []subtest{
	{"history/latest earlier call in any arrival order", testHistoryOrder},
	{"history/duplicate records nothing", testHistoryDuplicate},
	{"history/zero time is the store's now", testHistoryZeroTime},
	{"history/stored with the call", testHistoryStored},
	{"history/refuses keys that are not hashes", testHistoryInvalidKey},
	{"history/ages out by age, Sweep removes it", testHistoryRetention},
	{"history/canceled context", testHistoryCanceled},
}

// The callers of the history tests: one number in two accounts.
var (
	callerA      = forwarder.CallerKey("AC0001", "+61400000001")
	callerAOther = forwarder.CallerKey("AC0002", "+61400000001")
)

// acceptCaller accepts a new call sid by the caller key at at, failing
// the test on error.
func (e *env) acceptCaller(t *testing.T, sid, key string, at time.Time) *forwarder.Call {
	t.Helper()
	call := newCall(sid)
	call.StartDate = at
	call.History = &forwarder.CallerHistory{Key: key, At: at}
	if err := e.s.Accept(e.ctx, call, plan(call, "r")); err != nil {
		t.Fatalf("Accept(%s) = %v, want nil", sid, err)
	}
	return call
}

// wantPrevious checks PreviousCall(key, before): the time want, or none
// when want is zero. A time found must be in UTC.
func (e *env) wantPrevious(t *testing.T, key string, before, want time.Time) {
	t.Helper()
	got, ok, err := e.s.PreviousCall(e.ctx, key, before)
	if err != nil {
		t.Fatalf("PreviousCall(%.8s…, %v) = %v, want nil", key, before, err)
	}
	switch {
	case want.IsZero() && ok:
		t.Fatalf("PreviousCall(%.8s…, %v) = %v, want none", key, before, got)
	case !want.IsZero() && (!ok || !got.Equal(want) || got.Location() != time.UTC):
		t.Fatalf("PreviousCall(%.8s…, %v) = %v (found %v), want %v in UTC", key, before, got, ok, want)
	}
}

func testHistoryOrder(t *testing.T, e *env) {
	t1 := epoch.Add(-72 * time.Hour)
	t2 := epoch.Add(-48 * time.Hour).In(time.FixedZone("AEDT", 11*3600))
	t3 := epoch.Add(-time.Hour)
	// Webhooks do not always arrive in call order.
	e.acceptCaller(t, "CA-h2", callerA, t2)
	e.acceptCaller(t, "CA-h3", callerA, t3)
	e.acceptCaller(t, "CA-h1", callerA, t1)
	// Another caller, and the same number in another account, in between.
	e.acceptCaller(t, "CA-other", forwarder.CallerKey("AC0001", "+61400000002"), t2.Add(time.Hour))

	none := time.Time{}
	tests := []struct {
		name   string
		before time.Time
		want   time.Time
	}{
		{"before the first call", t1.Add(-time.Second), none},
		{"at the first call: it is not before itself", t1, none},
		{"just after the first call", t1.Add(time.Nanosecond), t1},
		{"at the second call", t2, t1},
		{"after the second call", t2.Add(time.Second), t2},
		{"at the third call", t3, t2},
		{"now", epoch, t3},
		{"far ahead", epoch.Add(300 * 24 * time.Hour), t3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.wantPrevious(t, callerA, tc.before, tc.want)
		})
	}
	e.wantPrevious(t, callerAOther, epoch, none)
}

func testHistoryDuplicate(t *testing.T, e *env) {
	first := epoch.Add(-time.Hour)
	e.acceptCaller(t, "CA-hdup", callerA, first)
	again := newCall("CA-hdup")
	again.History = &forwarder.CallerHistory{Key: callerA, At: epoch.Add(-time.Minute)}
	wantErr(t, "second Accept", e.s.Accept(e.ctx, again, nil), store.ErrDuplicate)
	e.wantPrevious(t, callerA, epoch, first)
}

func testHistoryZeroTime(t *testing.T, e *env) {
	call := newCall("CA-hzero")
	call.History = &forwarder.CallerHistory{Key: callerA}
	if err := e.s.Accept(e.ctx, call, nil); err != nil {
		t.Fatalf("Accept = %v, want nil", err)
	}
	e.wantPrevious(t, callerA, epoch, time.Time{})
	e.wantPrevious(t, callerA, epoch.Add(time.Nanosecond), epoch)
}

func testHistoryStored(t *testing.T, e *env) {
	calls := []*forwarder.Call{newCall("CA-hnone"), newCall("CA-hwithheld"), newCall("CA-hknown")}
	calls[1].From = forwarder.AnonymousCaller
	calls[1].History = &forwarder.CallerHistory{At: epoch}
	calls[2].History = &forwarder.CallerHistory{Key: callerA, At: epoch, Previous: epoch.Add(-96 * time.Hour)}
	for _, call := range calls {
		if err := e.s.Accept(e.ctx, call, nil); err != nil {
			t.Fatalf("Accept(%s) = %v, want nil", call.Sid, err)
		}
		got, err := e.s.Call(e.ctx, call.Sid)
		if err != nil {
			t.Fatalf("Call(%s) = %v, want nil", call.Sid, err)
		}
		wantSameJSON(t, "Call "+call.Sid, got, call)
	}
	e.wantStats(t, store.Stats{Calls: 3})
}

func testHistoryInvalidKey(t *testing.T, e *env) {
	for _, key := range []string{
		"+61400000001", // a number in clear must never become a key
		strings.ToUpper(callerA),
		callerA[:63],
		callerA + "0",
	} {
		call := newCall("CA-hbad")
		call.History = &forwarder.CallerHistory{Key: key, At: epoch}
		wantErr(t, "Accept with key "+key, e.s.Accept(e.ctx, call, plan(call, "r")), store.ErrInvalidCallerKey)
		_, _, err := e.s.PreviousCall(e.ctx, key, epoch)
		wantErr(t, "PreviousCall with key "+key, err, store.ErrInvalidCallerKey)
	}
	e.wantStats(t, store.Stats{})
	_, err := e.s.Call(e.ctx, "CA-hbad")
	wantErr(t, "Call after refused Accepts", err, store.ErrNotFound)
}

func testHistoryRetention(t *testing.T, e *env) {
	e.acceptCaller(t, "CA-hold", callerA, epoch)
	// Still there a nanosecond before its age reaches the retention; the
	// call itself has outlived the dedup window and is swept.
	e.clock.Advance(history - time.Nanosecond)
	e.wantPrevious(t, callerA, e.clock.Now(), epoch)
	if n, err := e.s.Sweep(e.ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 (the call), nil", n, err)
	}
	e.wantPrevious(t, callerA, e.clock.Now(), epoch)

	// Gone at its age, before any sweep; then Sweep removes it.
	e.clock.Advance(time.Nanosecond)
	e.wantPrevious(t, callerA, e.clock.Now(), time.Time{})
	if n, err := e.s.Sweep(e.ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1 (the history entry), nil", n, err)
	}
	if n, err := e.s.Sweep(e.ctx); err != nil || n != 0 {
		t.Fatalf("second Sweep = %d, %v; want 0, nil", n, err)
	}

	// The caller calls again: the history starts over.
	now := e.clock.Now()
	e.acceptCaller(t, "CA-hnew", callerA, now)
	e.wantPrevious(t, callerA, now.Add(time.Second), now)
	e.wantPrevious(t, callerA, now, time.Time{})
}

func testHistoryCanceled(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if _, _, err := e.s.PreviousCall(ctx, callerA, epoch); err == nil {
		t.Fatal("PreviousCall with a canceled context = nil error, want one")
	}
	call := newCall("CA-hcanceled")
	call.History = &forwarder.CallerHistory{Key: callerA, At: epoch}
	if err := e.s.Accept(ctx, call, nil); err == nil {
		t.Fatal("Accept with a canceled context = nil error, want one")
	}
	e.wantPrevious(t, callerA, epoch.Add(time.Second), time.Time{})
}
