package emulator

import "strings"

// GA4 reserved names (reference: Google's support article on event
// collection limits, and Firebase's Analytics.Event list).

// reservedEventNames may not be sent as event names.
var reservedEventNames = setOf(
	// web
	"ad_impression", "app_remove", "app_store_refund", "app_store_subscription_cancel",
	"app_store_subscription_renew", "click", "error", "file_download", "first_open",
	"first_visit", "form_start", "form_submit", "in_app_purchase", "page_view", "scroll",
	"session_start", "user_engagement", "view_complete", "video_progress", "video_start",
	"view_search_results",
	// app
	"ad_activeview", "ad_click", "ad_exposure", "ad_query", "ad_reward", "adunit_exposure",
	"app_background", "app_clear_data", "app_exception", "app_update", "app_upgrade",
	"os_update", "session_start_with_rollout",
)

// reservedEventPrefixes may not start an event name.
var reservedEventPrefixes = []string{
	"_", "firebase_", "ga_", "google_", "gtag.", "dynamic_link_", "notification_", "query_id",
}

// reservedParamPrefixes may not start a parameter name.
var reservedParamPrefixes = []string{"_", "firebase_", "ga_", "google_", "gtag."}

// reservedUserProperties may not be sent as user property names (Google's
// user properties guide).
var reservedUserProperties = setOf(
	"first_open_time", "first_visit_time", "last_deep_link_referrer", "user_id", "first_open_after_install",
)

// reservedUserPropertyPrefixes may not start a user property name.
var reservedUserPropertyPrefixes = []string{"google_", "ga_", "firebase_"}

// paramValueLimits are the parameters allowed longer string values than
// maxParamValueLen.
var paramValueLimits = map[string]int{"page_title": 300, "page_referrer": 420, "page_location": 1000}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// validName reports whether s is a GA4 event or parameter name: at most
// maxNameLen characters, a letter first, then letters, digits and '_'.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}
