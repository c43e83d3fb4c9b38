package mapping

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/callforward/callforward/forwarder/ga4/reserved"
)

// GA4's limits on user properties (Measurement Protocol reference).
const (
	ga4MaxUserProps       = 25
	ga4MaxUserPropName    = 24
	ga4MaxUserPropValue   = 36
	ga4UserPropsReference = "GA4 allows at most 25 user properties per request"
)

// ga4UserPropLimits are the constraints on user property values: as
// parameters, but at most 36 characters.
var ga4UserPropLimits = valueLimits{maxLen: ga4MaxUserPropValue, noPersonal: true, dest: "a GA4 user property"}

// checkGA4UserProp returns why name cannot be a GA4 user property name,
// or "" when it can.
func checkGA4UserProp(name string) string {
	p, isReserved := reserved.UserProperty(name)
	if isReserved && p != "" {
		return fmt.Sprintf("user property name %q starts with %q, which GA4 reserves", name, p)
	}
	switch {
	case name == "":
		return "user property name is empty"
	case len(name) > ga4MaxUserPropName:
		return fmt.Sprintf("user property name %q is %d characters long; GA4 allows at most %d", name, len(name), ga4MaxUserPropName)
	case !ga4Name.MatchString(name):
		return fmt.Sprintf("user property name %q must start with a letter and contain only letters, digits and underscores", name)
	case isReserved:
		return fmt.Sprintf("user property name %q is reserved by GA4", name)
	}
	return ""
}

// compileGA4UserProps compiles an action's user_properties mapping, with
// the same value forms as params.
func (l *loader) compileGA4UserProps(n *yaml.Node, ctx string) []ga4Param {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, ctx, "user_properties must be a mapping of user property names to values, got %s", describe(n))
		return nil
	}
	if count := len(n.Content) / 2; count > ga4MaxUserProps {
		l.errorf(n, ctx, "user_properties has %d properties; %s", count, ga4UserPropsReference)
	}
	var props []ga4Param
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, ctx, "user property names must be plain names, got %s", describe(k))
			continue
		}
		name := k.Value
		if why := checkGA4UserProp(name); why != "" {
			l.errorf(k, ctx, "%s", why)
			continue
		}
		if line, ok := seen[name]; ok {
			l.errorf(k, ctx, "user property %q is given twice (first at line %d)", name, line)
			continue
		}
		seen[name] = k.Line
		val, ok := l.compileValue(v, ctx, fmt.Sprintf("user property %q", name), ga4UserPropLimits)
		if !ok {
			continue
		}
		props = append(props, ga4Param{name: name, val: val})
	}
	return props
}
