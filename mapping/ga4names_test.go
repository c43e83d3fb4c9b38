package mapping

import (
	"strings"
	"testing"
)

func TestCheckGA4Event(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"phone_call", true},
		{"QualifiedCall2", true},
		{strings.Repeat("a", 40), true},
		{strings.Repeat("a", 41), false},
		{"", false},
		{"2calls", false},
		{"phone-call", false},
		{"phone call", false},
		{"_call", false},
		{"firebase_call", false},
		{"GA_call", false},
		{"google_call", false},
		{"page_view", false},
		{"session_start", false},
		{"notification_open", false},
		{"Page_View", true}, // GA4 names are case-sensitive
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if why := checkGA4Event(tc.name); (why == "") != tc.ok {
				t.Errorf("checkGA4Event(%q) = %q, want ok=%v", tc.name, why, tc.ok)
			}
		})
	}
}

func TestCheckGA4Param(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ok   bool
	}{
		{"value", true},
		{"session_id", true},
		{"call_duration_s", true},
		{"engagement_time_msec", false},
		{"gclid", false},
		{"session_number", false},
		{"ga_x", false},
		{"gtag.x", false},
		{"a.b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if why := checkGA4Param(tc.name); (why == "") != tc.ok {
				t.Errorf("checkGA4Param(%q) = %q, want ok=%v", tc.name, why, tc.ok)
			}
		})
	}
}

func TestMeasurementID(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{
		"G-HARBOUR01": true, "G-ABC123XYZ": true, "G-ABCD": true, "G-ABC": false,
		"G-abc123xyz": false, "UA-1234-1": false, "G-12345678901234567": false, " G-ABC123": false,
	} {
		if got := ga4MeasurementID.MatchString(id); got != ok {
			t.Errorf("measurement id %q valid = %v, want %v", id, got, ok)
		}
	}
}
