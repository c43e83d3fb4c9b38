package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/forwarder/store/storetest"
	"github.com/callforward/callforward/mapping"
)

// firstCallRules sends an event for callers new in 30 days; numbers
// without a country code are Australian.
const firstCallRules = `
settings: {default_region: AU}
destinations:
  web: {type: ga4, measurement_id: G-TEST1234}
rules:
  - name: new-caller
    when: {first_call_within_days: 30}
    send: [{to: web, event: new_caller}]
`

// plainRules asks nothing about earlier calls.
const plainRules = `
destinations:
  web: {type: ga4, measurement_id: G-TEST1234}
rules:
  - name: answered
    when: {disposition: ANSWERED}
    send: [{to: web, event: answered}]
`

var day0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// openBolt opens a real bolt store on a fake clock at day0, closed when t
// ends.
func openBolt(t *testing.T) (*bolt.Store, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(day0)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "callforward.db"), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, clock
}

func parseRules(t *testing.T, src string) *mapping.Rules {
	t.Helper()
	r, err := mapping.Parse("rules.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// caller builds an answered call sid from the number in account at.
func caller(sid, account, from string, at time.Time) *forwarder.Call {
	d := 120
	return &forwarder.Call{
		Event: forwarder.EventComplete, AccountSid: account, PropertySid: "PR1", Sid: sid,
		StartDate: at, From: from, Duration: &d, Disposition: forwarder.DispositionAnswered,
		GAClientID: "1.2",
	}
}

// countingHistory counts the lookups of the real store it wraps.
type countingHistory struct {
	st      *bolt.Store
	lookups atomic.Int64
}

func (c *countingHistory) PreviousCall(ctx context.Context, key string, before time.Time) (time.Time, bool, error) {
	c.lookups.Add(1)
	return c.st.PreviousCall(ctx, key, before)
}

func TestIngestFirstCall(t *testing.T) {
	st, clock := openBolt(t)
	rules := parseRules(t, firstCallRules)
	var logs bytes.Buffer
	svc := ingest.New(st, func() ingest.Planner { return rules }, ingest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	const number = "+61413000001"
	accepted := ingest.Result{Status: ingest.StatusAccepted, Deliveries: 1}
	ignored := ingest.Result{Status: ingest.StatusIgnored, Reason: "no rule matched"}
	tests := []struct {
		name string
		call *forwarder.Call
		want ingest.Result
		// why is a piece of Explain's reason for the call as stored,
		// when the rule does not match.
		why string
	}{
		{"first call", caller("CA1", "AC1", number, day0), accepted, ""},
		{"the same call again", caller("CA1", "AC1", number, day0), ingest.Result{Status: ingest.StatusDuplicate}, ""},
		{"three days later", caller("CA2", "AC1", number, day0.Add(72*time.Hour)), ignored, "the caller called 3 days before this call"},
		{"forty days after that", caller("CA3", "AC1", number, day0.Add(43*24*time.Hour)), accepted, ""},
		{"the same number in another account", caller("CA4", "AC2", number, day0.Add(44*24*time.Hour)), accepted, ""},
		{"a late webhook of a call a day after the first", caller("CA5", "AC1", number, day0.Add(24*time.Hour)), ignored, "the caller called 1 day before this call"},
		{"the number written nationally", caller("CA6", "AC1", "0413 000 001", day0.Add(45*24*time.Hour)), ignored, "the caller called 2 days before this call"},
		{"withheld number", caller("CA7", "AC1", forwarder.AnonymousCaller, day0.Add(46*24*time.Hour)), ignored, "the caller withheld the number"},
		{"invalid number", caller("CA8", "AC1", "12345", day0.Add(46*24*time.Hour)), ignored, "not a valid phone number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock.Advance(time.Minute)
			got, err := svc.Ingest(t.Context(), tc.call)
			if err != nil {
				t.Fatalf("Ingest = %v", err)
			}
			if got != tc.want {
				t.Fatalf("Ingest = %+v, want %+v", got, tc.want)
			}
			if tc.why == "" {
				return
			}
			stored, err := st.Call(t.Context(), tc.call.Sid)
			if err != nil {
				t.Fatalf("Call = %v", err)
			}
			if o := rules.Explain(stored)[0]; o.Matched || !strings.Contains(o.Reason, tc.why) {
				t.Errorf("Explain of the stored call = matched %v, %q; want a reason containing %q", o.Matched, o.Reason, tc.why)
			}
		})
	}
	// Re-planning a stored call judges it as it was judged on arrival,
	// though the caller called again since.
	stored, err := st.Call(t.Context(), "CA1")
	if err != nil {
		t.Fatal(err)
	}
	if ds := rules.Evaluate(stored); len(ds) != 1 {
		t.Errorf("re-planning the first call gives %d deliveries, want 1", len(ds))
	}
	for _, secret := range []string{number, "0413 000 001", forwarder.CallerKey("AC1", number)} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs.String())
		}
	}
}

func TestIngestLooksUpOnlyWhenRulesAsk(t *testing.T) {
	tests := []struct {
		name        string
		rules       string
		wantLookups int64
		wantHistory bool
	}{
		{"rules that do not ask", plainRules, 0, false},
		{"rules that ask", firstCallRules, 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := openBolt(t)
			hist := &countingHistory{st: st}
			rules := parseRules(t, tc.rules)
			svc := ingest.New(st, func() ingest.Planner { return rules }, ingest.Options{History: hist})
			calls := []*forwarder.Call{
				caller("CA1", "AC1", "+61413000001", day0),
				caller("CA2", "AC1", "+61413000001", day0.Add(time.Hour)),
				caller("CA3", "AC1", forwarder.AnonymousCaller, day0.Add(2*time.Hour)),
			}
			for _, c := range calls {
				if _, err := svc.Ingest(t.Context(), c); err != nil {
					t.Fatalf("Ingest(%s) = %v", c.Sid, err)
				}
			}
			if got := hist.lookups.Load(); got != tc.wantLookups {
				t.Errorf("%d lookups, want %d (none for withheld numbers)", got, tc.wantLookups)
			}
			stored, err := st.Call(t.Context(), "CA2")
			if err != nil {
				t.Fatal(err)
			}
			if (stored.History != nil) != tc.wantHistory {
				t.Fatalf("stored History = %+v, want present %v", stored.History, tc.wantHistory)
			}
			_, recorded, err := st.PreviousCall(t.Context(), forwarder.CallerKey("AC1", "+61413000001"), day0.Add(time.Minute))
			if err != nil || recorded != tc.wantHistory {
				t.Errorf("first call recorded = %v (%v), want %v", recorded, err, tc.wantHistory)
			}
			if tc.wantHistory && !stored.History.Previous.Equal(day0) {
				t.Errorf("second call's previous call = %v, want %v", stored.History.Previous, day0)
			}
		})
	}
}

func TestIngestHistoryUnavailable(t *testing.T) {
	st, _ := openBolt(t)
	rules := parseRules(t, firstCallRules)
	var logs bytes.Buffer
	down := ingest.CallerHistoryFunc(func(context.Context, string, time.Time) (time.Time, bool, error) {
		return time.Time{}, false, errors.New("connection refused")
	})
	svc := ingest.New(st, func() ingest.Planner { return rules }, ingest.Options{History: down, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	call := caller("CA1", "AC1", "+61413000001", day0)
	got, err := svc.Ingest(t.Context(), call)
	if err != nil {
		t.Fatalf("Ingest = %v, want the call stored despite the failed lookup", err)
	}
	if got.Status != ingest.StatusIgnored {
		t.Errorf("Ingest = %+v, want ignored: whether the caller is new is unknown", got)
	}
	stored, err := st.Call(t.Context(), "CA1")
	if err != nil {
		t.Fatal(err)
	}
	if h := stored.History; h == nil || !h.Unavailable || h.Key == "" {
		t.Errorf("stored History = %+v, want the caller's key, marked unavailable", h)
	}
	if o := rules.Explain(stored)[0]; !strings.Contains(o.Reason, "the store could not be read") {
		t.Errorf("Explain reason = %q, want it to say the store could not be read", o.Reason)
	}
	// The call is still recorded for the caller's next call.
	if _, ok, err := st.PreviousCall(t.Context(), forwarder.CallerKey("AC1", "+61413000001"), day0.Add(time.Hour)); err != nil || !ok {
		t.Errorf("PreviousCall after the call = %v, %v; want it recorded", ok, err)
	}
	if !strings.Contains(logs.String(), "caller history lookup failed") || !strings.Contains(logs.String(), `"call_sid":"CA1"`) {
		t.Errorf("logs do not report the failed lookup with the call's sid:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "+61413000001") {
		t.Errorf("logs contain the caller's number:\n%s", logs.String())
	}
}
