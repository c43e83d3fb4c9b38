package mapping

import "github.com/callforward/callforward/forwarder"

// Evaluate plans the deliveries for call: rules are tried in file order,
// every matching rule contributes one delivery per action, and a matching
// rule with stop: true ends the evaluation. Actions that cannot apply to the
// call (a GA4 event for a call without a GA client id, a Google Ads click
// conversion for a call with neither a click id nor a usable caller number)
// are left out; Explain says why. Evaluate does no I/O and is safe for
// concurrent use.
func (r *Rules) Evaluate(call *forwarder.Call) []forwarder.Delivery {
	if call == nil {
		return nil
	}
	// First find the matching rules, then allocate the result once.
	var buf [64]int32
	matched := buf[:0]
	count := 0
	for i := range r.rules {
		if !r.rules[i].matches(call) {
			continue
		}
		matched = append(matched, int32(i))
		count += len(r.rules[i].actions)
		if r.rules[i].stop {
			break
		}
	}
	if count == 0 {
		return nil
	}
	out := make([]forwarder.Delivery, 0, count)
	for _, i := range matched {
		ru := &r.rules[i]
		for _, a := range ru.actions {
			if d, skip := a.plan(call, ru.name); skip == "" {
				out = append(out, d)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// matches reports whether every condition of the rule holds for c.
func (ru *rule) matches(c *forwarder.Call) bool {
	for _, cond := range ru.conds {
		if !cond.match(c) {
			return false
		}
	}
	return true
}
