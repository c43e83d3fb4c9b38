package mapping

import (
	"fmt"
	"regexp"

	"github.com/callforward/callforward/forwarder/ga4/reserved"
)

// GA4 naming rules (see the Measurement Protocol reference and Google's
// "event naming rules"): names are at most 40 characters, start with a
// letter, and use letters, digits and underscores only.
const (
	ga4MaxName     = 40
	ga4MaxValueLen = 100
	// ga4MaxParams is GA4's 25 parameters per event, minus the
	// engagement_time_msec the sender adds.
	ga4MaxParams = 24
)

var (
	ga4Name          = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	ga4MeasurementID = regexp.MustCompile(`^G-[A-Z0-9]{4,16}$`)
)

// ga4ParamAdvice says why a rule may not set a parameter: the sender
// adds engagement_time_msec itself, and what to do instead of gclid,
// which GA4 reserves (see package reserved for the list).
var ga4ParamAdvice = map[string]string{
	"engagement_time_msec": "the sender adds it to every event",
	"gclid":                "GA4 reserves it; send click ids to Google Ads instead",
}

// checkGA4Name returns why name is not a valid GA4 event or parameter
// name, or "" when it is. kind is "event name" or "parameter name".
func checkGA4Name(name, kind string, isReserved func(string) (string, bool)) string {
	if p, ok := isReserved(name); ok && p != "" {
		return fmt.Sprintf("%s %q starts with %q, which GA4 reserves", kind, name, p)
	}
	switch {
	case name == "":
		return kind + " is empty"
	case len(name) > ga4MaxName:
		return fmt.Sprintf("%s %q is %d characters long; GA4 allows at most %d", kind, name, len(name), ga4MaxName)
	case !ga4Name.MatchString(name):
		return fmt.Sprintf("%s %q must start with a letter and contain only letters, digits and underscores", kind, name)
	}
	return ""
}

// checkGA4Event returns why name cannot be a GA4 event name, or "".
func checkGA4Event(name string) string {
	if why := checkGA4Name(name, "event name", reserved.Event); why != "" {
		return why
	}
	if _, ok := reserved.Event(name); ok {
		return fmt.Sprintf("event name %q is reserved by GA4 (it collects that event itself); choose another, e.g. phone_call", name)
	}
	return ""
}

// checkGA4Param returns why name cannot be a GA4 parameter name, or "".
func checkGA4Param(name string) string {
	if why := checkGA4Name(name, "parameter name", reserved.Param); why != "" {
		return why
	}
	if why, ok := ga4ParamAdvice[name]; ok {
		return fmt.Sprintf("parameter %q cannot be set here: %s", name, why)
	}
	if _, ok := reserved.Param(name); ok {
		return fmt.Sprintf("parameter %q cannot be set here: GA4 reserves it", name)
	}
	return ""
}
