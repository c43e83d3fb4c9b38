package mapping

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/callforward/callforward/forwarder"
	"go.yaml.in/yaml/v3"
)

// adsType is the Google Ads offline conversion destination type.
var adsType = &destType{
	keys:    []string{"customer_id", "login_customer_id", "backend"},
	compile: compileAdsDestination,
	actionKeys: []string{
		"conversion_action", "kind", "value", "default_value", "currency",
		"time", "caller_phone", "consent",
	},
	actionHints: map[string]string{
		"event":             "event is for ga4 destinations; this destination is google_ads (give the conversion_action: id instead)",
		"params":            "params is for ga4 destinations; a google_ads action takes value:, currency: and its other keys directly",
		"gclid":             "the click id is read from the call (Google.AdWords.ClickId); there is nothing to set",
		"order_id":          "the transaction (order) id is derived from the call and the rule, so that Google counts each conversion once; there is nothing to set",
		"transaction_id":    "the transaction (order) id is derived from the call and the rule, so that Google counts each conversion once; there is nothing to set",
		"customer_id":       "customer_id belongs to the destination (under destinations:), not to the action",
		"login_customer_id": "login_customer_id belongs to the destination (under destinations:), not to the action",
	},
	compileAction: compileAdsAction,
}

var (
	customerIDPattern       = regexp.MustCompile(`^[0-9]{10}$`)
	conversionActionPattern = regexp.MustCompile(`^[0-9]{1,19}$`)
	// conversionActionResource is an action's resource name, which people
	// copy from API output instead of its id.
	conversionActionResource = regexp.MustCompile(`^customers/[0-9-]+/conversionActions/([0-9]{1,19})$`)
)

// Choices of the google_ads keys, in the order messages list them.
var (
	adsBackends     = []string{forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI}
	adsKinds        = []string{forwarder.AdsClick, forwarder.AdsCall}
	adsTimes        = []string{"start", "end"}
	adsCallerPhones = []string{"none", "hashed"}
)

func compileAdsDestination(l *loader, o object, ctx string, d *Destination) {
	if !o.has("customer_id") {
		l.errorf(o.node, ctx, "customer_id is missing: give the Google Ads account that owns the conversion actions, e.g. customer_id: 123-456-7890 (shown at the top of Google Ads)")
	} else {
		d.CustomerID = l.customerID(o.get("customer_id"), ctx, "customer_id")
	}
	if o.has("login_customer_id") {
		d.LoginCustomerID = l.customerID(o.get("login_customer_id"), ctx, "login_customer_id")
	}
	d.Backend = forwarder.AdsBackendDataManager
	if o.has("backend") {
		d.Backend = l.choice(o.get("backend"), ctx, "backend", adsBackends, false)
	}
}

// customerID returns a Google Ads customer id without its dashes, or ""
// after recording a problem.
func (l *loader) customerID(n *yaml.Node, ctx, key string) string {
	s, ok := l.text(n, ctx, key)
	if !ok {
		return ""
	}
	id := strings.ReplaceAll(s, "-", "")
	if !customerIDPattern.MatchString(id) {
		l.errorf(n, ctx, "%s %q is not a Google Ads customer id: 10 digits, with or without dashes, such as 123-456-7890", key, s)
		return ""
	}
	return id
}

// choice returns the value of n, which must be one of choices; fold
// accepts any case and returns the choice as listed. It returns "" after
// recording a problem.
func (l *loader) choice(n *yaml.Node, ctx, key string, choices []string, fold bool) string {
	s, ok := l.text(n, ctx, key)
	if !ok {
		return ""
	}
	for _, c := range choices {
		if s == c || (fold && strings.EqualFold(s, c)) {
			return c
		}
	}
	l.errorf(n, ctx, "%s %q is not one of %s%s", key, s, strings.Join(choices, ", "), didYouMean(s, choices))
	return ""
}

func compileAdsAction(l *loader, o object, ctx string, d *Destination, rule string) action {
	a := &adsAction{
		dest:     d.Name,
		region:   l.region,
		idSuffix: "/" + rule + "/" + d.Name,
		conv: forwarder.AdsConversion{
			Backend:         d.Backend,
			Kind:            forwarder.AdsClick,
			CustomerID:      d.CustomerID,
			LoginCustomerID: d.LoginCustomerID,
		},
	}
	if !o.has("conversion_action") {
		l.errorf(o.node, ctx, "conversion_action is missing: give the id of the Google Ads conversion action to record, e.g. conversion_action: \"987654321\" (in Google Ads, Goals > Conversions: open the action, its id is the ctId in the address)")
	} else {
		a.conv.ConversionAction = l.conversionAction(o.get("conversion_action"), ctx)
		a.pos = l.pos(o.get("conversion_action"))
	}
	if o.has("kind") {
		a.conv.Kind = l.choice(o.get("kind"), ctx, "kind", adsKinds, false)
		if a.conv.Kind == forwarder.AdsCall && d.Backend != forwarder.AdsBackendGoogleAdsAPI {
			l.errorf(o.get("kind"), ctx, "kind: call uploads call conversions with the Google Ads API, which destination %q does not use: set backend: %s on it (line %d), or use kind: click",
				d.Name, forwarder.AdsBackendGoogleAdsAPI, d.Pos.Line)
		}
	}
	isCall := a.conv.Kind == forwarder.AdsCall
	a.atEnd = isCall
	if o.has("time") {
		switch l.choice(o.get("time"), ctx, "time", adsTimes, false) {
		case "start":
			a.atEnd = false
			if isCall {
				l.errorf(o.get("time"), ctx, "time: start cannot be used with kind: call: Google Ads wants a call conversion's time after the call's start; use time: end (the default for calls)")
			}
		case "end":
			a.atEnd = true
		}
	}
	if o.has("caller_phone") {
		a.hashPhone = l.choice(o.get("caller_phone"), ctx, "caller_phone", adsCallerPhones, false) == "hashed"
		if a.hashPhone && isCall {
			l.errorf(o.get("caller_phone"), ctx, "caller_phone: hashed does not apply to kind: call: a call conversion carries the caller's number in clear, as Google requires; remove caller_phone")
		}
	}
	l.compileAdsValue(o, ctx, a)
	a.conv.AdUserData = l.consent.AdUserData
	if o.has("consent") {
		c, _ := l.compileConsent(o.get("consent"), ctx, false)
		a.conv.AdUserData = c.AdUserData
	}
	return a
}

// conversionAction returns a conversion action id, or "" after recording a
// problem.
func (l *loader) conversionAction(n *yaml.Node, ctx string) string {
	s, ok := l.text(n, ctx, "conversion_action")
	if !ok {
		return ""
	}
	if conversionActionPattern.MatchString(s) {
		return s
	}
	hint := ""
	if m := conversionActionResource.FindStringSubmatch(s); m != nil {
		hint = fmt.Sprintf(" (give only the id at the end: %q)", m[1])
	}
	l.errorf(n, ctx, "conversion_action %q is not a conversion action id, which is digits only%s", s, hint)
	return ""
}

// adsValueLimits are the limits of value texts; only numbers pass the
// checks that follow, so they only bound what a message quotes.
var adsValueLimits = valueLimits{maxLen: ga4MaxValueLen, dest: "Google Ads"}

// compileAdsValue compiles value, default_value and currency into a.
func (l *loader) compileAdsValue(o object, ctx string, a *adsAction) {
	if o.has("value") {
		a.value = l.adsValue(o.get("value"), ctx)
	}
	if o.has("default_value") {
		n := o.get("default_value")
		switch {
		case !o.has("value"):
			l.errorf(n, ctx, "default_value without value: default_value is what value is when the field it reads is missing; give value: too, or use value: alone for a fixed value")
		case a.value != nil && a.value.ref == nil && a.value.prog == nil:
			l.errorf(n, ctx, "default_value only applies when value reads a field such as {{Call.Survey.Value}}; value here is a constant, so remove default_value")
		default:
			if v, ok := l.nonNegative(n, ctx, "default_value"); ok {
				a.defaultValue = &v
			}
		}
	}
	switch {
	case o.has("currency"):
		n := o.get("currency")
		if s, ok := l.text(n, ctx, "currency"); ok {
			if !currencyCode.MatchString(s) {
				l.errorf(n, ctx, "currency must be a three-letter ISO 4217 code in capitals such as AUD, got %q", s)
			}
			a.conv.Currency = s
		}
		if !o.has("value") {
			l.warnf(n, ctx, "currency without value: Google Ads uses the conversion action's own value and currency, so this currency is not sent")
		}
	case o.has("value"):
		l.errorf(o.keyNode("value"), ctx, "value needs a currency: add e.g. currency: AUD (a three-letter ISO 4217 code)")
	}
}

// adsValue compiles a conversion value: a constant, or one reference to a
// numeric field. It returns nil after recording a problem.
func (l *loader) adsValue(n *yaml.Node, ctx string) *value {
	want := "value must be a number, or one reference to a numeric field such as {{Call.Survey.Value}}"
	if n != nil && n.Kind == yaml.MappingNode {
		v, ok := l.compileExprValue(n, ctx, "value", adsValueLimits, true)
		if !ok {
			return nil
		}
		return v
	}
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!bool" || n.ShortTag() == "!!null" {
		l.errorf(n, ctx, "%s; got %s", want, describe(n))
		return nil
	}
	if n.ShortTag() == "!!str" && !strings.Contains(n.Value, "{{") {
		l.errorf(n, ctx, "%s; got the text %q (write numbers without quotes or currency signs)", want, n.Value)
		return nil
	}
	v, ok := l.compileValue(n, ctx, "value", adsValueLimits)
	if !ok {
		return nil
	}
	switch {
	case v.constant != nil:
		switch f := toFloat(v.constant); {
		case f < 0:
			l.errorf(n, ctx, "value must not be negative (Google Ads refuses it), got %s", n.Value)
			return nil
		case f > maxAdsValue:
			l.errorf(n, ctx, "value %s is too large to be a conversion value", n.Value)
			return nil
		}
	case v.ref != nil && v.ref.num == nil:
		l.errorf(n, ctx, "value reads {{%s}}, which is not a number; Google Ads needs a number: use a numeric field (%s) or a constant", v.ref.name, strings.Join(numericFields, ", "))
		return nil
	case v.parts != nil:
		l.errorf(n, ctx, "value mixes text and references, so it is text; Google Ads needs a number: give one reference such as {{Call.Survey.Value}} or a constant")
		return nil
	}
	return v
}

// nonNegative returns a constant number that is 0 or more.
func (l *loader) nonNegative(n *yaml.Node, ctx, what string) (float64, bool) {
	var v float64
	tag := ""
	if n != nil {
		tag = n.ShortTag()
	}
	if n == nil || n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || n.Decode(&v) != nil || !(v >= 0) || v > maxAdsValue {
		l.errorf(n, ctx, "%s must be a number, 0 or more, got %s", what, describe(n))
		return 0, false
	}
	return v, true
}

// maxAdsValue bounds constant values: beyond it a value is a typo (and
// beyond 2^53 not even exact).
const maxAdsValue = 1e15

// numericFields lists the documented number fields, for messages.
var numericFields = func() []string {
	var names []string
	for _, f := range knownFields {
		if f.num != nil {
			names = append(names, "{{"+f.name+"}}")
		}
	}
	return names
}()
