package mapping

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/callforward/callforward/forwarder"
	"go.yaml.in/yaml/v3"
)

// Destination is a place deliveries go, as the rules file defines it. The
// application checks that its credentials cover every destination (for GA4:
// an API secret for MeasurementID; for Google Ads: OAuth access to
// CustomerID through Backend's API; legacy UA needs none).
type Destination struct {
	// Name is the name the file gives it; rules send to it by this name.
	Name string `json:"name"`
	// Type is the destination type (forwarder.DestinationGA4, ...).
	Type string `json:"type"`
	// MeasurementID is the GA4 web stream ("G-..."), for type ga4.
	MeasurementID string `json:"measurement_id,omitempty"`
	// CustomerID is the Google Ads conversion customer, 10 digits without
	// dashes, for type google_ads.
	CustomerID string `json:"customer_id,omitempty"`
	// LoginCustomerID is the manager account the access goes through, 10
	// digits, for type google_ads; empty when there is none.
	LoginCustomerID string `json:"login_customer_id,omitempty"`
	// Backend is the API conversions are sent with, for type google_ads:
	// forwarder.AdsBackendDataManager (the default) or
	// forwarder.AdsBackendGoogleAdsAPI.
	Backend string `json:"backend,omitempty"`
	// Consent is the consent signals sent with the GA4 events of the
	// destination, for type ga4 (settings.consent fills the signals it
	// leaves unset); nil when there are none.
	Consent *forwarder.GA4Consent `json:"consent,omitempty"`
	// TrackingID is the Universal Analytics property ("UA-XXXX-Y"), for
	// type ua (legacy).
	TrackingID string `json:"tracking_id,omitempty"`
	// Pos is where the destination is defined.
	Pos Pos `json:"pos"`
}

// An action is one compiled `send` entry of a rule.
type action interface {
	// destination is the name of the destination the action sends to.
	destination() string
	// plan builds the delivery of c under the rule, or returns the reason
	// (a sentence for Explain) why it is skipped for this call.
	plan(c *forwarder.Call, rule string) (d forwarder.Delivery, skip string)
}

// destType describes one destination type: the keys its definition and
// its actions take, and how to compile them. Adding a type is adding an
// entry to destTypes.
type destType struct {
	// keys are the definition's keys besides "type".
	keys []string
	// compile fills d from the definition; it reports problems to l.
	compile func(l *loader, o object, ctx string, d *Destination)
	// actionKeys are an action's keys besides "to".
	actionKeys  []string
	actionHints map[string]string
	// compileAction compiles an action sending to d under rule.
	compileAction func(l *loader, o object, ctx string, d *Destination, rule string) action
}

// destTypes are the supported destination types by name.
var destTypes = map[string]*destType{
	forwarder.DestinationGA4:       ga4Type,
	forwarder.DestinationGoogleAds: adsType,
	forwarder.DestinationUA:        uaType,
}

// destTypeNames lists the supported types, sorted, for messages.
var destTypeNames = slices.Sorted(maps.Keys(destTypes))

// namePattern is the shape of rule and destination names: they become part
// of delivery IDs ("CallSid/rule/destination").
var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// compileDestinations compiles the `destinations` mapping.
func (l *loader) compileDestinations(n *yaml.Node) []Destination {
	n = resolve(n)
	if isNull(n) {
		l.errorf(n, "", "destinations: define at least one destination, e.g.\n  destinations:\n    web: {type: ga4, measurement_id: G-XXXXXXX}")
		return nil
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "", "destinations must be a mapping from a name you choose to its settings, got %s", describe(n))
		return nil
	}
	var dests []Destination
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		name := k.Value
		ctx := fmt.Sprintf("destination %q", name)
		if k.Kind != yaml.ScalarNode || !namePattern.MatchString(name) {
			l.errorf(k, "", "destination name %s must be 1 to 64 letters, digits, '-' or '_'", describe(k))
			continue
		}
		if line, ok := seen[name]; ok {
			l.errorf(k, "", "destination %q is defined twice (first at line %d)", name, line)
			continue
		}
		seen[name] = k.Line
		d := Destination{Name: name, Pos: l.pos(k)}
		if v.Kind != yaml.MappingNode {
			l.errorf(v, ctx, "a destination must be a mapping with a type (one of %s), got %s", strings.Join(destTypeNames, ", "), describe(v))
			continue
		}
		typ, typNode := "", (*yaml.Node)(nil)
		for j := 0; j+1 < len(v.Content); j += 2 {
			if resolve(v.Content[j]).Value == "type" {
				typNode = resolve(v.Content[j+1])
				typ, _ = l.text(typNode, ctx, "type")
			}
		}
		if typNode == nil {
			l.broken[name] = true
			l.errorf(v, ctx, "type is missing; known types: %s", strings.Join(destTypeNames, ", "))
			continue
		}
		dt, ok := destTypes[typ]
		if !ok {
			l.broken[name] = true
			if typ != "" {
				l.errorf(typNode, ctx, "unknown destination type %q; known types: %s%s", typ, strings.Join(destTypeNames, ", "), didYouMean(typ, destTypeNames))
			}
			continue
		}
		d.Type = typ
		o, _ := l.object(v, ctx, "the destination", append([]string{"type"}, dt.keys...), nil)
		dt.compile(l, o, ctx, &d)
		dests = append(dests, d)
	}
	return dests
}
