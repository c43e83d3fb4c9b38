package mapping

import (
	"fmt"
	"strings"

	"github.com/callforward/callforward/forwarder"
	"go.yaml.in/yaml/v3"
)

// A condition is one compiled matcher of a rule's `when`.
type condition interface {
	// match reports whether c satisfies the condition.
	match(c *forwarder.Call) bool
	// why says, in a sentence a marketer understands, why c does not
	// satisfy it. Only called when match is false; never mentions
	// personal data.
	why(c *forwarder.Call) string
}

// whenKeys are the matchers a rule may use, in the order messages list
// them.
var whenKeys = []string{
	"event", "disposition", "min_duration", "max_duration", "property", "account",
	"number_name", "number_type", "traffic_type", "survey_type",
	"has_client_id", "has_gclid", "has_survey_value",
	"source", "medium", "campaign", "min_survey_value", "max_survey_value",
	"has_caller_phone", "country", "first_call_within_days", "expr",
}

// matchOrder is the order conditions are checked in: the routing
// matchers, which reject most rules in a multi-site file, come first.
var matchOrder = []string{
	"property", "account", "event", "disposition", "min_duration", "number_name",
	"number_type", "traffic_type", "survey_type", "has_client_id", "has_gclid", "has_survey_value",
	"source", "medium", "campaign", "min_survey_value", "country", "has_caller_phone",
	"first_call_within_days",
	// expr is last: it costs the most.
	"expr",
}

// whenHints explain keys that are recognised but not accepted.
var whenHints = map[string]string{
	"duration": "use min_duration and/or max_duration (whole seconds) to match on the call's length",
}

// Known values, for warnings about likely typos.
var (
	knownEvents       = []string{string(forwarder.EventComplete), string(forwarder.EventInitiate)}
	knownDispositions = []string{"ANSWERED", "NO ANSWER", "BUSY", "IVR", "FAILED"}
	knownNumberTypes  = []string{"Static", "Dynamic"}
	knownTrafficTypes = []string{"Campaign", "Direct", "Organic", "Referral", "Unattributed"}
)

// compileWhen compiles a rule's matchers. n may be nil (no `when`): the
// rule then matches every Call.Complete.
func (l *loader) compileWhen(n *yaml.Node, ctx string) []condition {
	o, ok := l.object(n, ctx, "when", whenKeys, whenHints)
	if !ok {
		return nil
	}
	var conds []condition
	for _, key := range matchOrder {
		var c condition
		switch {
		case key == "event" && !o.has(key):
			c = &eventCond{events: []string{string(forwarder.EventComplete)}, implicit: true}
		case key == "min_duration":
			c = l.compileDuration(o, ctx)
		case key == "min_survey_value":
			c = l.compileSurveyRange(o, ctx)
		case o.has(key):
			c = l.compileMatcher(key, o.get(key), ctx)
		}
		if c != nil {
			conds = append(conds, c)
		}
	}
	return conds
}

// compileMatcher compiles the matcher key with value n, or returns nil
// after recording a problem.
func (l *loader) compileMatcher(key string, n *yaml.Node, ctx string) condition {
	switch key {
	case "event":
		vals, nodes := l.texts(n, ctx, key)
		for i, v := range vals {
			if !containsFold(knownEvents, v) {
				l.warnf(nodes[i], ctx, "event %q is not one the platform documents (%s); the rule only matches if it starts sending it%s",
					v, strings.Join(knownEvents, ", "), didYouMean(v, knownEvents))
			}
		}
		if len(vals) == 0 {
			return nil
		}
		return &eventCond{events: vals}
	case "disposition":
		vals, nodes := l.texts(n, ctx, key)
		for i, v := range vals {
			if containsFold(knownDispositions, v) {
				continue
			}
			hint := didYouMean(v, knownDispositions)
			if alt := strings.ReplaceAll(v, "_", " "); alt != v && containsFold(knownDispositions, alt) {
				hint = fmt.Sprintf(" (did you mean %q, with a space?)", strings.ToUpper(alt))
			}
			l.warnf(nodes[i], ctx, "disposition %q is not one the platform documents (%s); kept in case the platform adds it%s",
				v, strings.Join(knownDispositions, ", "), hint)
		}
		if len(vals) == 0 {
			return nil
		}
		return &anyOfCond{field: "disposition", what: "Call.Disposition", get: func(c *forwarder.Call) string { return string(c.Disposition) }, values: vals}
	case "property":
		return l.anyOf(n, ctx, key, "Property.Sid", nil, func(c *forwarder.Call) string { return c.PropertySid })
	case "account":
		return l.anyOf(n, ctx, key, "Account.Sid", nil, func(c *forwarder.Call) string { return c.AccountSid })
	case "number_name":
		return l.anyOf(n, ctx, key, "Call.To.Name", nil, func(c *forwarder.Call) string { return c.ToName })
	case "number_type":
		return l.anyOf(n, ctx, key, "Call.To.Type", knownNumberTypes, func(c *forwarder.Call) string { return c.ToType })
	case "traffic_type":
		return l.anyOf(n, ctx, key, "Session.Traffic.Type", knownTrafficTypes, func(c *forwarder.Call) string { return c.Session.TrafficType })
	case "survey_type":
		return l.anyOf(n, ctx, key, "Call.Survey.Type", nil, func(c *forwarder.Call) string { return c.Survey.Type })
	case "source":
		return l.compilePatterns(n, ctx, key, "Attribution.Source", func(c *forwarder.Call) string { return c.Attribution.Source })
	case "medium":
		return l.compilePatterns(n, ctx, key, "Attribution.Medium", func(c *forwarder.Call) string { return c.Attribution.Medium })
	case "campaign":
		return l.compilePatterns(n, ctx, key, "Attribution.Campaign", func(c *forwarder.Call) string { return c.Attribution.Campaign })
	case "country":
		return l.anyOf(n, ctx, key, "Call.From.Country", nil, func(c *forwarder.Call) string { return c.FromCountry })
	case "has_caller_phone":
		want, ok := l.boolean(n, ctx, key)
		if !ok {
			return nil
		}
		return &presenceCond{what: "usable caller number (Call.From, not withheld)", want: want, has: func(c *forwarder.Call) bool { return c.CallerPhone() != "" }}
	case "first_call_within_days":
		return l.compileFirstCall(n, ctx)
	case "expr":
		return l.compileExprCond(n, ctx)
	case "has_survey_value":
		want, ok := l.boolean(n, ctx, key)
		if !ok {
			return nil
		}
		return &presenceCond{what: "Call.Survey.Value", want: want, has: func(c *forwarder.Call) bool { return c.Survey.Value != nil }}
	case "has_client_id":
		want, ok := l.boolean(n, ctx, key)
		if !ok {
			return nil
		}
		return &presenceCond{what: "Google.Analytics.ClientId", want: want, has: func(c *forwarder.Call) bool { return c.GAClientID != "" }}
	case "has_gclid":
		want, ok := l.boolean(n, ctx, key)
		if !ok {
			return nil
		}
		return &presenceCond{what: "Google.AdWords.ClickId (GCLID)", want: want, has: func(c *forwarder.Call) bool { return c.GCLID != "" }}
	}
	return nil
}

// anyOf compiles a case-insensitive any-of matcher on a text field. When
// known is given, a value outside it is an error (number_type) or a
// warning (traffic_type, whose list the platform may grow).
func (l *loader) anyOf(n *yaml.Node, ctx, key, what string, known []string, get func(*forwarder.Call) string) condition {
	vals, nodes := l.texts(n, ctx, key)
	if known != nil {
		for i, v := range vals {
			if containsFold(known, v) {
				continue
			}
			if key == "number_type" {
				l.errorf(nodes[i], ctx, "number_type %q is not a number type; use %s%s", v, strings.Join(known, " or "), didYouMean(v, known))
				return nil
			}
			l.warnf(nodes[i], ctx, "%s %q is not one the platform documents (%s)%s", key, v, strings.Join(known, ", "), didYouMean(v, known))
		}
	}
	if len(vals) == 0 {
		return nil
	}
	return &anyOfCond{field: key, what: what, get: get, values: vals}
}

// containsFold reports whether list holds s, ignoring case. Values
// usually come with the case the rule uses, so an exact pass goes first.
func containsFold(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// eventCond matches the webhook event.
type eventCond struct {
	events   []string
	implicit bool // no `event` was given: Call.Complete by default
}

func (e *eventCond) match(c *forwarder.Call) bool { return containsFold(e.events, string(c.Event)) }

func (e *eventCond) why(c *forwarder.Call) string {
	got := string(c.Event)
	if got == "" {
		got = "(no event)"
	}
	if e.implicit {
		return fmt.Sprintf("the call is a %s event; the rule names no event, so it only matches Call.Complete", got)
	}
	return fmt.Sprintf("the call is a %s event; the rule wants %s", got, orList(e.events))
}

// anyOfCond matches a text field against a list, case-insensitively.
type anyOfCond struct {
	field  string // the matcher's key
	what   string // the webhook parameter it reads
	get    func(*forwarder.Call) string
	values []string
}

func (a *anyOfCond) match(c *forwarder.Call) bool { return containsFold(a.values, a.get(c)) }

func (a *anyOfCond) why(c *forwarder.Call) string {
	got := a.get(c)
	if got == "" {
		return fmt.Sprintf("the call has no %s; the rule wants %s (%s)", a.what, orList(a.values), a.field)
	}
	return fmt.Sprintf("the call's %s is %q; the rule wants %s (%s)", a.what, got, orList(a.values), a.field)
}

// compileDuration compiles min_duration and max_duration into one
// condition, or returns nil when neither is given (or they are broken).
func (l *loader) compileDuration(o object, ctx string) condition {
	r, ok := l.compileRange(o, ctx, "min_duration", "max_duration", l.seconds)
	if !ok {
		return nil
	}
	return &durationCond{r}
}

// intRange is an inclusive range with optional ends.
type intRange struct {
	min, max       int
	hasMin, hasMax bool
}

// compileRange reads the optional bounds minKey and maxKey with parse. ok
// is false when neither is given, one is broken, or min exceeds max (all
// reported).
func (l *loader) compileRange(o object, ctx, minKey, maxKey string, parse func(n *yaml.Node, ctx, what string) (int, bool)) (r intRange, ok bool) {
	ok = true
	if o.has(minKey) {
		r.min, r.hasMin = parse(o.get(minKey), ctx, minKey)
		ok = ok && r.hasMin
	}
	if o.has(maxKey) {
		r.max, r.hasMax = parse(o.get(maxKey), ctx, maxKey)
		ok = ok && r.hasMax
	}
	if !ok || (!r.hasMin && !r.hasMax) {
		return r, false
	}
	if r.hasMin && r.hasMax && r.min > r.max {
		l.errorf(o.get(minKey), ctx, "%s (%d) is greater than %s (%d, line %d): no call can match", minKey, r.min, maxKey, r.max, o.get(maxKey).Line)
		return r, false
	}
	return r, true
}

// durationCond matches the call length, bounds included. A call without a
// duration (Call.Initiate) never matches.
type durationCond struct{ intRange }

func (d *durationCond) match(c *forwarder.Call) bool {
	if c.Duration == nil {
		return false
	}
	return (!d.hasMin || *c.Duration >= d.min) && (!d.hasMax || *c.Duration <= d.max)
}

func (d *durationCond) why(c *forwarder.Call) string {
	var want string
	switch {
	case d.hasMin && d.hasMax:
		want = fmt.Sprintf("between %d and %d seconds", d.min, d.max)
	case d.hasMin:
		want = fmt.Sprintf("at least %d seconds", d.min)
	default:
		want = fmt.Sprintf("at most %d seconds", d.max)
	}
	if c.Duration == nil {
		return "the call has no duration (Call.Initiate events never do); the rule wants " + want
	}
	return fmt.Sprintf("the call lasted %d seconds; the rule wants %s", *c.Duration, want)
}

// presenceCond matches whether a field is present.
type presenceCond struct {
	what string
	want bool
	has  func(*forwarder.Call) bool
}

func (p *presenceCond) match(c *forwarder.Call) bool { return p.has(c) == p.want }

func (p *presenceCond) why(*forwarder.Call) string {
	if p.want {
		return fmt.Sprintf("the call has no %s; the rule wants calls that have one", p.what)
	}
	return fmt.Sprintf("the call has a %s; the rule wants calls without one", p.what)
}

// orList formats values as `"A"`, `"A" or "B"`, `one of "A", "B", "C"`.
func orList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	switch len(q) {
	case 1:
		return q[0]
	case 2:
		return q[0] + " or " + q[1]
	}
	return "one of " + strings.Join(q, ", ")
}
