package mapping

import (
	"fmt"
	"regexp"

	"github.com/callforward/callforward/forwarder"
	"go.yaml.in/yaml/v3"
)

// ga4Type is the GA4 Measurement Protocol destination type.
var ga4Type = &destType{
	keys:       []string{"measurement_id", "consent"},
	compile:    compileGA4Destination,
	actionKeys: []string{"event", "params", "user_properties", "consent"},
	actionHints: map[string]string{
		"value":             "value belongs under params: (a GA4 event carries value and currency as parameters)",
		"currency":          "currency belongs under params: (a GA4 event carries value and currency as parameters)",
		"name":              "the GA4 event name is given with event:",
		"conversion_action": "conversion_action is for google_ads destinations; this destination is ga4 (send an event: with params: instead)",
	},
	compileAction: compileGA4Action,
}

// skipNoClientID is why a GA4 action is skipped for a call without a GA
// client id: GA4 attributes web events to the visitor by it.
const skipNoClientID = "the call has no Google.Analytics.ClientId, GA4 needs the visitor's client id"

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// ga4Limits are GA4's constraints on parameter values.
var ga4Limits = valueLimits{maxLen: ga4MaxValueLen, noPersonal: true, dest: "GA4"}

func compileGA4Destination(l *loader, o object, ctx string, d *Destination) {
	c := l.consent
	if o.has("consent") {
		own, _ := l.compileConsent(o.get("consent"), ctx, true)
		c = withDefaults(own, c)
	}
	if c != (forwarder.GA4Consent{}) {
		d.Consent = &c
	}
	if !o.has("measurement_id") {
		l.errorf(o.node, ctx, "measurement_id is missing: give the GA4 web stream's measurement id (G-...)")
		return
	}
	n := o.get("measurement_id")
	id, ok := l.text(n, ctx, "measurement_id")
	if !ok {
		return
	}
	if !ga4MeasurementID.MatchString(id) {
		l.errorf(n, ctx, "measurement_id %q is not a GA4 measurement id (G- followed by 4 to 16 capital letters or digits, as shown in Admin > Data streams)", id)
		return
	}
	d.MeasurementID = id
}

// ga4Action sends one GA4 event.
type ga4Action struct {
	dest          string
	measurementID string
	event         string
	params        []ga4Param
	userProps     []ga4Param
	// consent is sent with every event; zero: none.
	consent  forwarder.GA4Consent
	idSuffix string // "/rule/destination", the tail of the delivery ID
}

type ga4Param struct {
	name string
	val  *value
}

func compileGA4Action(l *loader, o object, ctx string, d *Destination, rule string) action {
	a := &ga4Action{dest: d.Name, measurementID: d.MeasurementID, idSuffix: "/" + rule + "/" + d.Name}
	if !o.has("event") {
		l.errorf(o.node, ctx, "event is missing: give the GA4 event name to send, e.g. event: phone_call")
	} else if name, ok := l.text(o.get("event"), ctx, "event"); ok {
		if why := checkGA4Event(name); why != "" {
			l.errorf(o.get("event"), ctx, "%s", why)
		}
		a.event = name
	}
	a.params = l.compileGA4Params(o.get("params"), ctx)
	a.userProps = l.compileGA4UserProps(o.get("user_properties"), ctx)
	if d.Consent != nil {
		a.consent = *d.Consent
	}
	if o.has("consent") {
		own, _ := l.compileConsent(o.get("consent"), ctx, true)
		a.consent = withDefaults(own, a.consent)
	}
	return a
}

// compileGA4Params compiles an action's params mapping.
func (l *loader) compileGA4Params(n *yaml.Node, ctx string) []ga4Param {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, ctx, "params must be a mapping of parameter names to values, got %s", describe(n))
		return nil
	}
	if count := len(n.Content) / 2; count > ga4MaxParams {
		l.errorf(n, ctx, "params has %d parameters; GA4 takes 25 per event and the sender adds engagement_time_msec, so at most %d", count, ga4MaxParams)
	}
	var params []ga4Param
	seen := map[string]int{}
	var value, currency *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		name := k.Value
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, ctx, "parameter names must be plain names, got %s", describe(k))
			continue
		}
		if why := checkGA4Param(name); why != "" {
			l.errorf(k, ctx, "%s", why)
			continue
		}
		if line, ok := seen[name]; ok {
			l.errorf(k, ctx, "parameter %q is given twice (first at line %d)", name, line)
			continue
		}
		seen[name] = k.Line
		what := fmt.Sprintf("parameter %q", name)
		val, ok := l.compileValue(v, ctx, what, ga4Limits)
		if !ok {
			continue
		}
		switch name {
		case "value":
			value = v
			l.checkGA4Value(v, val, ctx)
		case "currency":
			currency = v
			if s, ok := val.constant.(string); ok && !currencyCode.MatchString(s) {
				l.errorf(v, ctx, "parameter \"currency\" must be a three-letter ISO 4217 code in capitals such as AUD, got %q", s)
			}
		}
		params = append(params, ga4Param{name: name, val: val})
	}
	if value != nil && currency == nil {
		l.warnf(value, ctx, "parameter \"value\" without a \"currency\": GA4 ignores the value of an event that has no currency (add e.g. currency: AUD)")
	}
	return params
}

// checkGA4Value checks that the value parameter can be a number.
func (l *loader) checkGA4Value(n *yaml.Node, v *value, ctx string) {
	switch {
	case v.constant != nil:
		if _, text := v.constant.(string); text {
			l.errorf(n, ctx, "parameter \"value\" must be a number (GA4 sums it as revenue), got the text %q", v.constant)
		}
	case v.isText():
		l.errorf(n, ctx, "parameter \"value\" must be a number (GA4 sums it as revenue), but its expression gives text")
	case v.ref != nil && v.ref.num == nil:
		l.warnf(n, ctx, "parameter \"value\" reads {{%s}}, which is text; GA4 only sums numeric values", v.ref.name)
	case v.parts != nil:
		l.errorf(n, ctx, "parameter \"value\" mixes text and references, so it is text; GA4 needs a number: give one reference such as {{Call.Survey.Value}} or a constant")
	}
}

func (a *ga4Action) destination() string { return a.dest }

func (a *ga4Action) plan(c *forwarder.Call, rule string) (forwarder.Delivery, string) {
	clientID := plannedClientID(c)
	if clientID == "" {
		return forwarder.Delivery{}, skipNoClientID
	}
	params := renderParams(a.params, c)
	userProps := renderParams(a.userProps, c)
	var consent *forwarder.GA4Consent
	if a.consent != (forwarder.GA4Consent{}) {
		cp := a.consent
		consent = &cp
	}
	return forwarder.Delivery{
		ID:          c.Sid + a.idSuffix,
		CallSid:     c.Sid,
		Rule:        rule,
		Destination: a.dest,
		Type:        forwarder.DestinationGA4,
		CallTime:    c.StartDate,
		GA4: &forwarder.GA4Event{
			MeasurementID:  a.measurementID,
			ClientID:       clientID,
			Name:           a.event,
			Params:         params,
			UserProperties: userProps,
			Time:           c.StartDate,
			Consent:        consent,
		},
	}, ""
}

// renderParams renders params for c, leaving out absent values; nil when
// there are none to render.
func renderParams(ps []ga4Param, c *forwarder.Call) map[string]any {
	if len(ps) == 0 {
		return nil
	}
	m := make(map[string]any, len(ps))
	for i := range ps {
		if v, ok := ps[i].val.render(c); ok {
			m[ps[i].name] = v
		}
	}
	return m
}

// plannedClientID is the GA client id a GA4 event or UA hit of c carries:
// as the senders will send it (forwarder.CleanText), so that an id made
// only of control characters counts as no id at all rather than planning
// an event the sender must refuse.
func plannedClientID(c *forwarder.Call) string { return forwarder.CleanText(c.GAClientID) }
