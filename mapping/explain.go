package mapping

import (
	"fmt"
	"strings"

	"github.com/callforward/callforward/forwarder"
)

// Outcome is what one rule did with a call, as Explain reports it.
type Outcome struct {
	// Rule is the rule's name.
	Rule string `json:"rule"`
	// Matched is true when every condition of the rule held.
	Matched bool `json:"matched"`
	// Reason says why the rule did not match (every condition that failed,
	// separated by "; "), or that it was not evaluated because an earlier
	// rule stopped the evaluation. Empty when Matched.
	Reason string `json:"reason,omitempty"`
	// Deliveries are the deliveries the rule plans (what Evaluate returns
	// for it).
	Deliveries []forwarder.Delivery `json:"deliveries,omitempty"`
	// Skipped are the rule's actions that do not apply to this call.
	Skipped []Skip `json:"skipped,omitempty"`
	// Stops is true when the rule matched and has stop: true, so later
	// rules were not evaluated.
	Stops bool `json:"stops,omitempty"`
}

// Skip is an action of a matching rule that produced no delivery.
type Skip struct {
	// Destination is the name of the destination the action sends to.
	Destination string `json:"destination"`
	// Reason says why the action was skipped.
	Reason string `json:"reason"`
}

// Explain reports, for every rule in file order, whether it matched call
// and why not, and for matching rules what each action plans or why it is
// skipped. The deliveries it lists are exactly those Evaluate returns. The
// reasons never quote personal data (phone numbers, client ids, click ids).
func (r *Rules) Explain(call *forwarder.Call) []Outcome {
	if call == nil {
		call = &forwarder.Call{}
	}
	out := make([]Outcome, 0, len(r.rules))
	stoppedBy := ""
	for i := range r.rules {
		ru := &r.rules[i]
		o := Outcome{Rule: ru.name}
		if stoppedBy != "" {
			o.Reason = fmt.Sprintf("not evaluated: rule %q matched and has stop: true", stoppedBy)
			out = append(out, o)
			continue
		}
		var why []string
		for _, c := range ru.conds {
			if !c.match(call) {
				why = append(why, c.why(call))
			}
		}
		if len(why) > 0 {
			o.Reason = strings.Join(why, "; ")
			out = append(out, o)
			continue
		}
		o.Matched = true
		for _, a := range ru.actions {
			d, skip := a.plan(call, ru.name)
			if skip != "" {
				o.Skipped = append(o.Skipped, Skip{Destination: a.destination(), Reason: skip})
				continue
			}
			o.Deliveries = append(o.Deliveries, d)
		}
		if ru.stop {
			o.Stops = true
			stoppedBy = ru.name
		}
		out = append(out, o)
	}
	return out
}

// WhyNone says in one sentence why call gets no delivery: no rule
// matched, or the rules that matched could not send (and why). It is meant
// for a call Evaluate planned nothing for, and costs an Explain.
func (r *Rules) WhyNone(call *forwarder.Call) string {
	var matched []string
	seen := map[string]bool{}
	var reasons []string
	for _, o := range r.Explain(call) {
		if !o.Matched {
			continue
		}
		matched = append(matched, fmt.Sprintf("%q", o.Rule))
		for _, s := range o.Skipped {
			if !seen[s.Reason] {
				seen[s.Reason] = true
				reasons = append(reasons, s.Reason)
			}
		}
	}
	switch {
	case len(matched) == 0:
		return "no rule matched"
	case len(reasons) == 0:
		return fmt.Sprintf("rule %s matched but sends nothing", strings.Join(matched, ", "))
	}
	return fmt.Sprintf("rule %s matched but nothing could be sent: %s", strings.Join(matched, ", "), strings.Join(reasons, "; "))
}
