package mapping

import (
	"fmt"
	"regexp"
	"strings"
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

// ga4ReservedPrefixes may not start an event or parameter name.
var ga4ReservedPrefixes = []string{"_", "firebase_", "ga_", "google_", "gtag."}

// ga4ReservedEvents are the event names GA4 reserves (web and app lists).
var ga4ReservedEvents = map[string]bool{
	"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_impression": true,
	"ad_query": true, "ad_reward": true, "adunit_exposure": true, "app_background": true,
	"app_clear_data": true, "app_exception": true, "app_remove": true, "app_store_refund": true,
	"app_store_subscription_cancel": true, "app_store_subscription_convert": true,
	"app_store_subscription_renew": true, "app_update": true, "app_upgrade": true,
	"click": true, "error": true, "file_download": true, "first_open": true, "first_visit": true,
	"form_start": true, "form_submit": true, "in_app_purchase": true, "os_update": true,
	"page_view": true, "scroll": true, "session_start": true, "session_start_with_rollout": true,
	"user_engagement": true, "video_complete": true, "video_progress": true, "video_start": true,
	"view_complete": true, "view_search_results": true,
}

// ga4ReservedEventPrefixes are app-list families reserved as a whole.
var ga4ReservedEventPrefixes = []string{"dynamic_link_", "notification_"}

// ga4ReservedParams may not be set by a rule: the sender adds
// engagement_time_msec itself, and GA4 reserves the others.
var ga4ReservedParams = map[string]string{
	"engagement_time_msec": "the sender adds it to every event",
	"gclid":                "GA4 reserves it; send click ids to Google Ads instead",
	"session_number":       "GA4 reserves it",
}

// checkGA4Name returns why name is not a valid GA4 event or parameter
// name, or "" when it is. kind is "event name" or "parameter name".
func checkGA4Name(name, kind string) string {
	for _, p := range ga4ReservedPrefixes {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return fmt.Sprintf("%s %q starts with %q, which GA4 reserves", kind, name, p)
		}
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
	if why := checkGA4Name(name, "event name"); why != "" {
		return why
	}
	if ga4ReservedEvents[name] {
		return fmt.Sprintf("event name %q is reserved by GA4 (it collects that event itself); choose another, e.g. phone_call", name)
	}
	for _, p := range ga4ReservedEventPrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Sprintf("event name %q starts with %q, which GA4 reserves", name, p)
		}
	}
	return ""
}

// checkGA4Param returns why name cannot be a GA4 parameter name, or "".
func checkGA4Param(name string) string {
	if why := checkGA4Name(name, "parameter name"); why != "" {
		return why
	}
	if why, ok := ga4ReservedParams[name]; ok {
		return fmt.Sprintf("parameter %q cannot be set here: %s", name, why)
	}
	return ""
}
