package mapping

import (
	"fmt"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/userdata"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"go.yaml.in/yaml/v3"
)

// day is the unit of first_call_within_days and of
// call.days_since_previous_call.
const day = 24 * time.Hour

// NeedsCallerHistory reports whether a rule asks about the caller's
// earlier calls (first_call_within_days, or call.days_since_previous_call
// in an expression). Only then does intake look the caller up and record
// the call: rules that do not ask cost nothing, and no caller history is
// kept for them.
func (r *Rules) NeedsCallerHistory() bool { return r.history }

// CallerKey returns the key the caller of c is recorded under
// (forwarder.CallerKey of the account and the E.164 number, reading a
// national number in settings.default_region), or "" when the caller
// cannot be identified: the number is withheld, missing or invalid.
func (r *Rules) CallerKey(c *forwarder.Call) string {
	if c == nil || c.CallerPhone() == "" {
		return ""
	}
	e164, err := userdata.NormalizePhone(c.From, r.region)
	if err != nil {
		return ""
	}
	return forwarder.CallerKey(c.AccountSid, e164)
}

// compileFirstCall compiles first_call_within_days: a whole number of
// days, from 1 to forwarder.MaxCallerHistoryDays (the stores keep no
// older history).
func (l *loader) compileFirstCall(n *yaml.Node, ctx string) condition {
	n = resolve(n)
	var v int64
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil || v < 1 || v > forwarder.MaxCallerHistoryDays {
		l.errorf(n, ctx, "first_call_within_days must be a whole number of days from 1 to %d (the forwarder keeps %d days of caller history), got %s",
			forwarder.MaxCallerHistoryDays, forwarder.MaxCallerHistoryDays, describe(n))
		return nil
	}
	l.history = true
	return &firstCallCond{days: int(v)}
}

// firstCallCond matches a call whose caller has no earlier call on record
// in the days before it. A caller whose history is unknown (not looked up,
// withheld or invalid number, store unavailable) never matches: counting
// them as new would report conversions that may not be.
type firstCallCond struct{ days int }

func (f *firstCallCond) match(c *forwarder.Call) bool {
	if !c.History.Known() {
		return false
	}
	d, ok := c.History.SincePrevious()
	return !ok || d >= time.Duration(f.days)*day
}

func (f *firstCallCond) why(c *forwarder.Call) string {
	period := plural(f.days, "day")
	if f.days == 1 {
		period = "day"
	}
	want := "the rule wants callers with no call in the previous " + period + " (first_call_within_days)"
	if !c.History.Known() {
		return unknownHistory(c) + "; " + want
	}
	d, _ := c.History.SincePrevious()
	return fmt.Sprintf("the caller called %s before this call; %s", elapsed(d), want)
}

// unknownHistory says why whether the caller of c called before is
// unknown. It never quotes the number.
func unknownHistory(c *forwarder.Call) string {
	h := c.History
	switch {
	case h == nil:
		return "the caller's earlier calls were not looked up for this call (the forwarder looks them up only while a loaded rule asks about them, and explain reads no store)"
	case h.Key == "" && c.Anonymous():
		return "the caller withheld the number, so their earlier calls cannot be looked up"
	case h.Key == "" && c.From == "":
		return "the call has no caller number (Call.From), so the caller's earlier calls cannot be looked up"
	case h.Key == "":
		return "the caller's number is not a valid phone number, so their earlier calls cannot be looked up"
	}
	return "the store could not be read when the call arrived, so whether the caller called before is unknown"
}

// daysSincePrevious is the CEL variable call.days_since_previous_call:
// whole days since the caller's previous call, null when there is none on
// record, and an error (the expression does not match, Explain says why)
// when the history is unknown.
func daysSincePrevious(c *forwarder.Call) ref.Val {
	if !c.History.Known() {
		return types.NewErr("call.days_since_previous_call is unknown: %s", unknownHistory(c))
	}
	d, ok := c.History.SincePrevious()
	if !ok {
		return types.NullValue
	}
	return types.Int(max(d, 0) / day)
}

// elapsed writes a duration the way people say it: "3 days", "5 hours",
// "1 minute", "less than a minute". Whole units, rounded down.
func elapsed(d time.Duration) string {
	switch {
	case d >= day:
		return plural(int(d/day), "day")
	case d >= time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int(d/time.Minute), "minute")
	}
	return "less than a minute"
}

// plural writes n and unit, with an s unless n is 1.
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
