package mapping

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/callforward/callforward/forwarder"
	"go.yaml.in/yaml/v3"
)

// uaType is the legacy Universal Analytics (Measurement Protocol v1)
// destination type. Google stopped processing UA hits in 2023 (360
// properties: 2024); it remains for collectors that speak the protocol.
var uaType = &destType{
	keys:       []string{"tracking_id"},
	compile:    compileUADestination,
	actionKeys: []string{"category", "action", "label", "value", "non_interaction", "campaign"},
	actionHints: map[string]string{
		"event":             "event is for ga4 destinations; this destination is ua (give category: and action:)",
		"params":            "params is for ga4 destinations; a ua action takes category:, action:, label: and value: directly",
		"conversion_action": "conversion_action is for google_ads destinations; this destination is ua (give category: and action:)",
		"currency":          "a Universal Analytics event value has no currency; remove it",
		"tracking_id":       "tracking_id belongs to the destination (under destinations:), not to the action",
	},
	compileAction: compileUAAction,
}

// uaTrackingID is the shape of a UA property id.
var uaTrackingID = regexp.MustCompile(`^UA-\d+-\d+$`)

// Byte limits of the Measurement Protocol v1 event fields and of the
// campaign parameters the action fills.
const (
	uaCategoryMax = 150
	uaActionMax   = 500
	uaLabelMax    = 500
)

// uaCampaign maps the campaign parameters an action with campaign: true
// sends to the attribution field each reads and its byte limit.
var uaCampaign = []struct {
	param string
	max   int
	get   func(a *forwarder.Attribution) string
}{
	{"cn", 100, func(a *forwarder.Attribution) string { return a.Campaign }},
	{"cs", 100, func(a *forwarder.Attribution) string { return a.Source }},
	{"cm", 50, func(a *forwarder.Attribution) string { return a.Medium }},
	{"cc", 500, func(a *forwarder.Attribution) string { return a.Content }},
}

// skipNoUAClientID is why a UA action is skipped for a call without a GA
// client id: the hit is attributed to the visitor by it (cid).
const skipNoUAClientID = "the call has no Google.Analytics.ClientId, Universal Analytics needs the visitor's client id"

func compileUADestination(l *loader, o object, ctx string, d *Destination) {
	if !o.has("tracking_id") {
		l.errorf(o.node, ctx, "tracking_id is missing: give the Universal Analytics property id, e.g. tracking_id: UA-12345-1")
		return
	}
	n := o.get("tracking_id")
	id, ok := l.text(n, ctx, "tracking_id")
	if !ok {
		return
	}
	if !uaTrackingID.MatchString(id) {
		hint := ""
		if ga4MeasurementID.MatchString(id) {
			hint = " (that is a GA4 measurement id: use type: ga4 with measurement_id:)"
		}
		l.errorf(n, ctx, "tracking_id %q is not a Universal Analytics property id (UA-, digits, -, digits, such as UA-12345-1)%s", id, hint)
		return
	}
	d.TrackingID = id
}

// uaAction sends one Universal Analytics event hit.
type uaAction struct {
	dest       string
	trackingID string
	category   *value
	action     *value
	label      *value // nil: none
	ev         *value // nil: none; a constant int or a numeric reference
	nonInter   bool
	campaign   bool
	idSuffix   string // "/rule/destination", the tail of the delivery ID
}

func compileUAAction(l *loader, o object, ctx string, d *Destination, rule string) action {
	a := &uaAction{dest: d.Name, trackingID: d.TrackingID, idSuffix: "/" + rule + "/" + d.Name}
	if !o.has("category") {
		l.errorf(o.node, ctx, "category is missing: give the event category, e.g. category: Phone call")
	} else {
		a.category = l.uaText(o.get("category"), ctx, "category", uaCategoryMax)
	}
	if !o.has("action") {
		l.errorf(o.node, ctx, "action is missing: give the event action, e.g. action: \"{{Call.Disposition}}\"")
	} else {
		a.action = l.uaText(o.get("action"), ctx, "action", uaActionMax)
	}
	if o.has("label") {
		a.label = l.uaText(o.get("label"), ctx, "label", uaLabelMax)
	}
	if o.has("value") {
		a.ev = l.uaValue(o.get("value"), ctx)
	}
	if o.has("non_interaction") {
		a.nonInter, _ = l.boolean(o.get("non_interaction"), ctx, "non_interaction")
	}
	if o.has("campaign") {
		a.campaign, _ = l.boolean(o.get("campaign"), ctx, "campaign")
	}
	return a
}

// uaText compiles an event field: a constant or a {{Field}} template,
// within max bytes when constant. It returns nil after recording a
// problem.
func (l *loader) uaText(n *yaml.Node, ctx, what string, max int) *value {
	if n != nil && n.Kind == yaml.MappingNode {
		l.errorf(n, ctx, "%s must be a text with optional {{Field}} references, got %s", what, describe(n))
		return nil
	}
	v, ok := l.compileValue(n, ctx, what, valueLimits{maxLen: max, noPersonal: true, dest: "Universal Analytics", product: "Universal Analytics"})
	if !ok {
		return nil
	}
	if s, isText := v.constant.(string); isText && len(s) > max {
		l.errorf(n, ctx, "%s is %d bytes long; Universal Analytics accepts at most %d", what, len(s), max)
		return nil
	}
	return v
}

// uaValue compiles the event value: a whole constant, 0 or more, or one
// reference to a numeric field. It returns nil after recording a problem.
func (l *loader) uaValue(n *yaml.Node, ctx string) *value {
	const want = "value must be a whole number, 0 or more, or one reference to a numeric field such as {{Call.Duration}}"
	if n == nil || n.Kind != yaml.ScalarNode {
		l.errorf(n, ctx, "%s; got %s", want, describe(n))
		return nil
	}
	switch n.ShortTag() {
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil || v < 0 || v > math.MaxInt32 {
			l.errorf(n, ctx, "%s; got %s", want, n.Value)
			return nil
		}
		return &value{constant: int(v)}
	case "!!str":
		if !strings.Contains(n.Value, "{{") {
			l.errorf(n, ctx, "%s; got the text %q (write numbers without quotes)", want, n.Value)
			return nil
		}
	default:
		l.errorf(n, ctx, "%s; got %s", want, describe(n))
		return nil
	}
	v, ok := l.compileValue(n, ctx, "value", valueLimits{maxLen: uaLabelMax, noPersonal: true, dest: "Universal Analytics", product: "Universal Analytics"})
	if !ok {
		return nil
	}
	switch {
	case v.ref != nil && v.ref.num == nil:
		l.errorf(n, ctx, "value reads {{%s}}, which is not a number; a Universal Analytics event value is a whole number: use a numeric field (%s) or a constant", v.ref.name, strings.Join(numericFields, ", "))
		return nil
	case v.ref == nil:
		l.errorf(n, ctx, "value mixes text and references, so it is text; a Universal Analytics event value is a whole number: give one reference such as {{Call.Duration}} or a constant")
		return nil
	}
	return v
}

func (a *uaAction) destination() string { return a.dest }

func (a *uaAction) plan(c *forwarder.Call, rule string) (forwarder.Delivery, string) {
	clientID := plannedClientID(c)
	if clientID == "" {
		return forwarder.Delivery{}, skipNoUAClientID
	}
	category := renderUAText(a.category, c, uaCategoryMax)
	if category == "" {
		return forwarder.Delivery{}, "the event category is empty for this call (the fields it reads are missing), and a Universal Analytics event needs one"
	}
	act := renderUAText(a.action, c, uaActionMax)
	if act == "" {
		return forwarder.Delivery{}, "the event action is empty for this call (the fields it reads are missing), and a Universal Analytics event needs one"
	}
	hit := &forwarder.UAHit{
		TrackingID:     a.trackingID,
		ClientID:       clientID,
		Category:       category,
		Action:         act,
		Label:          renderUAText(a.label, c, uaLabelMax),
		NonInteraction: a.nonInter,
		Time:           c.StartDate,
	}
	if a.ev != nil {
		if v, ok := a.ev.render(c); ok {
			if n, isInt := v.(int); isInt && n >= 0 {
				hit.Value = &n
			}
		}
	}
	if a.campaign {
		for _, p := range uaCampaign {
			if s := truncateBytes(p.get(&c.Attribution), p.max); s != "" {
				if hit.Campaign == nil {
					hit.Campaign = map[string]string{}
				}
				hit.Campaign[p.param] = s
			}
		}
	}
	return forwarder.Delivery{
		ID:          c.Sid + a.idSuffix,
		CallSid:     c.Sid,
		Rule:        rule,
		Destination: a.dest,
		Type:        forwarder.DestinationUA,
		CallTime:    c.StartDate,
		UA:          hit,
	}, ""
}

// renderUAText renders an event field for c as text of at most max bytes;
// "" when v is nil or absent for c.
func renderUAText(v *value, c *forwarder.Call, max int) string {
	if v == nil {
		return ""
	}
	r, ok := v.render(c)
	if !ok {
		return ""
	}
	var s string
	switch r := r.(type) {
	case string:
		s = r
	case int:
		s = strconv.Itoa(r)
	case float64:
		s = strconv.FormatFloat(r, 'f', -1, 64)
	}
	// Cleaned as the sender will clean it, so that a text made only of
	// control characters or broken bytes counts as empty here.
	return truncateBytes(forwarder.CleanText(s), max)
}

// truncateBytes cuts s to at most max bytes, never inside a character.
func truncateBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}
