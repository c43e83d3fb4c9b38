package mapping

import (
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// historyCall returns a completed call at a fixed time by a known caller
// whose history is h (nil: not looked up).
func historyCall(h *forwarder.CallerHistory) *forwarder.Call {
	duration := 90
	return &forwarder.Call{
		Event:      forwarder.EventComplete,
		AccountSid: "AC1",
		Sid:        "CAhistory",
		StartDate:  time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC),
		From:       "+61413000001",
		Duration:   &duration,
		GAClientID: "1.2",
		History:    h,
	}
}

func TestFirstCallWithinDays(t *testing.T) {
	t.Parallel()
	r, err := Parse("rules.yaml", []byte(head+"  - {name: new, when: {first_call_within_days: 30}, send: [{to: web, event: new_caller}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	key := forwarder.CallerKey("AC1", "+61413000001")
	known := func(previous time.Time) *forwarder.CallerHistory {
		return &forwarder.CallerHistory{Key: key, At: at, Previous: previous}
	}
	tests := []struct {
		name    string
		history *forwarder.CallerHistory
		from    string
		match   bool
		reason  string // a piece of the reason, when it does not match
	}{
		{"no earlier call", known(time.Time{}), "", true, ""},
		{"called exactly 30 days before", known(at.Add(-30 * day)), "", true, ""},
		{"called 400 days before", known(at.Add(-400 * day)), "", true, ""},
		{"called a second short of 30 days before", known(at.Add(-30*day + time.Second)), "", false, "the caller called 29 days before this call; the rule wants callers with no call in the previous 30 days"},
		{"called 3 days before", known(at.Add(-3*day - 4*time.Hour)), "", false, "the caller called 3 days before this call"},
		{"called a day before", known(at.Add(-day)), "", false, "the caller called 1 day before this call"},
		{"called 5 hours before", known(at.Add(-5*time.Hour - 59*time.Minute)), "", false, "the caller called 5 hours before this call"},
		{"called a minute before", known(at.Add(-time.Minute)), "", false, "the caller called 1 minute before this call"},
		{"called seconds before", known(at.Add(-10 * time.Second)), "", false, "the caller called less than a minute before this call"},
		{"not looked up", nil, "", false, "the caller's earlier calls were not looked up for this call"},
		{"withheld number", &forwarder.CallerHistory{At: at}, forwarder.AnonymousCaller, false, "the caller withheld the number"},
		{"no number", &forwarder.CallerHistory{At: at}, "", false, "the call has no caller number (Call.From)"},
		{"invalid number", &forwarder.CallerHistory{At: at}, "12345", false, "the caller's number is not a valid phone number"},
		{"store unavailable", &forwarder.CallerHistory{Key: key, At: at, Unavailable: true}, "", false, "the store could not be read when the call arrived"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := historyCall(tc.history)
			if tc.history != nil && tc.history.Key == "" {
				c.From = tc.from
			}
			got := len(r.Evaluate(c)) == 1
			if got != tc.match {
				t.Fatalf("Evaluate planned %v, want match %v", r.Evaluate(c), tc.match)
			}
			o := r.Explain(c)[0]
			if o.Matched != tc.match || !strings.Contains(o.Reason, tc.reason) {
				t.Errorf("Explain = matched %v, reason %q; want matched %v, reason containing %q", o.Matched, o.Reason, tc.match, tc.reason)
			}
			if strings.Contains(o.Reason, "+614") || strings.Contains(o.Reason, "12345") || strings.Contains(o.Reason, key[:16]) {
				t.Errorf("reason quotes the caller: %q", o.Reason)
			}
		})
	}
}

func TestDaysSincePreviousCall(t *testing.T) {
	t.Parallel()
	r, err := Parse("rules.yaml", []byte(head+
		"  - name: days\n    send: [{to: web, event: days, params: {days: {expr: 'call.days_since_previous_call'}}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	key := forwarder.CallerKey("AC1", "+61413000001")
	tests := []struct {
		name    string
		history *forwarder.CallerHistory
		want    any // the days parameter; nil: left out
	}{
		{"no earlier call: null", &forwarder.CallerHistory{Key: key, At: at}, nil},
		{"whole days, rounded down", &forwarder.CallerHistory{Key: key, At: at, Previous: at.Add(-45*day + time.Hour)}, 44},
		{"same day", &forwarder.CallerHistory{Key: key, At: at, Previous: at.Add(-time.Hour)}, 0},
		{"unknown: an error, the value is left out", &forwarder.CallerHistory{At: at}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ds := r.Evaluate(historyCall(tc.history))
			if len(ds) != 1 {
				t.Fatalf("Evaluate = %v, want one delivery", ds)
			}
			got, ok := ds[0].GA4.Params["days"]
			if (tc.want == nil) == ok || (ok && got != tc.want) {
				t.Errorf("days = %v (present %v), want %v", got, ok, tc.want)
			}
		})
	}
}

func TestNeedsCallerHistory(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, rules string
		want        bool
	}{
		{"no matcher", "  - {name: a, when: {min_duration: 60}, send: [{to: web, event: x}]}\n", false},
		{"first_call_within_days", "  - {name: a, when: {first_call_within_days: 30}, send: [{to: web, event: x}]}\n", true},
		{"in a later rule", "  - {name: a, send: [{to: web, event: x}]}\n  - {name: b, when: {first_call_within_days: 7}, send: [{to: web, event: y}]}\n", true},
		{"a condition reading the days", "  - {name: a, when: {expr: 'call.days_since_previous_call == null'}, send: [{to: web, event: x}]}\n", true},
		{"a value reading the days", "  - {name: a, send: [{to: web, event: x, params: {d: {expr: 'call.days_since_previous_call'}}}]}\n", true},
		{"the name inside a text only", "  - {name: a, when: {expr: 'call.to_name != \"call.days_since_previous_call\"'}, send: [{to: web, event: x}]}\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Parse("rules.yaml", []byte(head+tc.rules))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.NeedsCallerHistory(); got != tc.want {
				t.Errorf("NeedsCallerHistory() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCallerKey(t *testing.T) {
	t.Parallel()
	au, err := Parse("rules.yaml", []byte("settings: {default_region: AU}\n"+head+"  - {name: a, when: {first_call_within_days: 30}, send: [{to: web, event: x}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	none, err := Parse("rules.yaml", []byte(head+"  - {name: a, when: {first_call_within_days: 30}, send: [{to: web, event: x}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	call := func(account, from string) *forwarder.Call { return &forwarder.Call{AccountSid: account, From: from} }
	want := forwarder.CallerKey("AC1", "+61298765432")
	tests := []struct {
		name  string
		rules *Rules
		call  *forwarder.Call
		want  string
	}{
		{"E.164", none, call("AC1", "+61298765432"), want},
		{"national number read in default_region", au, call("AC1", "02 9876 5432"), want},
		{"national number without default_region", none, call("AC1", "02 9876 5432"), ""},
		{"another account", au, call("AC2", "+61298765432"), forwarder.CallerKey("AC2", "+61298765432")},
		{"withheld", au, call("AC1", forwarder.AnonymousCaller), ""},
		{"missing", au, call("AC1", ""), ""},
		{"invalid", au, call("AC1", "12345"), ""},
		{"no call", au, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.rules.CallerKey(tc.call)
			if got != tc.want {
				t.Errorf("CallerKey = %q, want %q", got, tc.want)
			}
			if got != "" && !forwarder.ValidCallerKey(got) {
				t.Errorf("CallerKey = %q, not a valid caller key", got)
			}
		})
	}
	if want == forwarder.CallerKey("AC2", "+61298765432") {
		t.Error("the same number in two accounts has one key, want one per account")
	}
}

func TestElapsed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "less than a minute"},
		{59 * time.Second, "less than a minute"},
		{time.Minute, "1 minute"},
		{59*time.Minute + 59*time.Second, "59 minutes"},
		{time.Hour, "1 hour"},
		{23 * time.Hour, "23 hours"},
		{day, "1 day"},
		{45*day + 23*time.Hour, "45 days"},
	}
	for _, tc := range tests {
		if got := elapsed(tc.d); got != tc.want {
			t.Errorf("elapsed(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
