package mapping

import "github.com/callforward/callforward/forwarder"

// AdsAction is a Google Ads action of the rules, for checks of the setup
// that do not depend on a call.
type AdsAction struct {
	// Rule and Destination name the rule and the destination it sends to.
	Rule, Destination string
	// Conversion holds what the action sends for every call: backend,
	// kind, customer ids, conversion action, currency and consent.
	Conversion forwarder.AdsConversion
	// Pos is where conversion_action is given.
	Pos Pos
}

// AdsActions returns the Google Ads actions of the rules in file order.
func (r *Rules) AdsActions() []AdsAction {
	var out []AdsAction
	for _, ru := range r.rules {
		for _, ac := range ru.actions {
			if a, ok := ac.(*adsAction); ok {
				out = append(out, AdsAction{Rule: ru.name, Destination: a.dest, Conversion: a.conv, Pos: a.pos})
			}
		}
	}
	return out
}
