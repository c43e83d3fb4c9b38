// Package reserved is the one list of the names GA4 reserves: event
// names, event parameter names and user property names, with their
// reserved prefixes. The rules compiler (mapping) refuses them when a
// rules file is loaded, and the emulator reports them as NAME_RESERVED as
// GA4's validation server does, from this list, so the two cannot drift.
//
// Sources: Google's "[GA4] Event naming rules" (support answer 13316687),
// its web and app lists, and Firebase's Analytics.Event list for the app
// families; the user properties guide. Google says the lists are not
// exhaustive. The parameter names the page reserves only for custom
// dimensions (currency, user_id, ...) are not here: the Measurement
// Protocol takes them. Whether Google compares prefixes regardless of
// case is not documented; they are compared regardless of case here, the
// safer reading for a rules file.
package reserved

import "strings"

// events are the reserved event names, web and app lists together.
var events = setOf(
	// web
	"ad_impression", "app_remove", "app_store_refund", "app_store_subscription_cancel",
	"app_store_subscription_renew", "click", "error", "file_download", "first_open",
	"first_visit", "form_start", "form_submit", "in_app_purchase", "page_view", "scroll",
	"session_start", "user_engagement", "video_complete", "view_complete", "video_progress",
	"video_start", "view_search_results",
	// app
	"ad_activeview", "ad_click", "ad_exposure", "ad_query", "ad_reward", "adunit_exposure",
	"app_background", "app_clear_data", "app_exception", "app_store_subscription_convert",
	"app_update", "app_upgrade", "os_update", "session_start_with_rollout",
)

// eventPrefixes may not start an event name: the web prefixes, then app
// families reserved as a whole.
var eventPrefixes = []string{
	"_", "firebase_", "ga_", "google_", "gtag.",
	"dynamic_link_", "notification_", "query_id",
}

// params are the reserved event parameter names a Measurement Protocol
// sender must not set. session_id and engagement_time_msec, reserved in
// the interface, are expected from Measurement Protocol senders.
var params = setOf("gclid", "session_number")

// paramPrefixes may not start an event parameter name.
var paramPrefixes = []string{"_", "firebase_", "ga_", "google_", "gtag."}

// userProperties are the reserved user property names.
var userProperties = setOf(
	"first_open_time", "first_visit_time", "last_deep_link_referrer", "user_id", "first_open_after_install",
)

// userPropertyPrefixes may not start a user property name.
var userPropertyPrefixes = []string{"_", "firebase_", "ga_", "google_"}

// Event reports whether GA4 reserves name as an event name. prefix is
// the reserved prefix name starts with, or "" when the whole name is
// reserved.
func Event(name string) (prefix string, ok bool) { return check(name, events, eventPrefixes) }

// Param reports whether GA4 reserves name as an event parameter name;
// prefix as for Event.
func Param(name string) (prefix string, ok bool) { return check(name, params, paramPrefixes) }

// UserProperty reports whether GA4 reserves name as a user property
// name; prefix as for Event.
func UserProperty(name string) (prefix string, ok bool) {
	return check(name, userProperties, userPropertyPrefixes)
}

func check(name string, names map[string]bool, prefixes []string) (string, bool) {
	for _, p := range prefixes {
		if len(name) >= len(p) && strings.EqualFold(name[:len(p)], p) {
			return p, true
		}
	}
	return "", names[name]
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
