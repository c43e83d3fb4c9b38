package reserved_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/ga4/reserved"
	"github.com/callforward/callforward/mapping"
)

func TestReserved(t *testing.T) {
	tests := []struct {
		check      func(string) (string, bool)
		name, pref string
		want       bool
	}{
		{reserved.Event, "page_view", "", true},
		{reserved.Event, "video_complete", "", true},
		{reserved.Event, "app_store_subscription_convert", "", true},
		{reserved.Event, "Page_View", "", false}, // names are case sensitive
		{reserved.Event, "google_call", "google_", true},
		{reserved.Event, "Google_call", "google_", true},
		{reserved.Event, "query_id_x", "query_id", true},
		{reserved.Event, "notification_open", "notification_", true},
		{reserved.Event, "phone_call", "", false},
		{reserved.Param, "gclid", "", true},
		{reserved.Param, "session_number", "", true},
		{reserved.Param, "session_id", "", false},
		{reserved.Param, "engagement_time_msec", "", false},
		{reserved.Param, "ga_session", "ga_", true},
		{reserved.Param, "currency", "", false},
		{reserved.UserProperty, "user_id", "", true},
		{reserved.UserProperty, "_tier", "_", true},
		{reserved.UserProperty, "firebase_x", "firebase_", true},
		{reserved.UserProperty, "caller_tier", "", false},
	}
	for _, tt := range tests {
		if p, ok := tt.check(tt.name); ok != tt.want || p != tt.pref {
			t.Errorf("%s: got %q, %v; want %q, %v", tt.name, p, ok, tt.pref, tt.want)
		}
	}
}

// TestCompilerAndEmulatorAgree: a name the list reserves is refused by
// the rules compiler and reported NAME_RESERVED by the emulator; a name
// it does not reserve passes both.
func TestCompilerAndEmulatorAgree(t *testing.T) {
	emu := httptest.NewServer(emulator.New(emulator.Options{}).Handler())
	defer emu.Close()
	type kind struct {
		name  string
		check func(string) (string, bool)
		// rule is the send action of a rules file using the name; body
		// the request to the emulator.
		rule, body string
	}
	kinds := []kind{
		{"event", reserved.Event, `{to: web, event: %s}`, `{"client_id":"1.2","events":[{"name":%q}]}`},
		{"param", reserved.Param, `{to: web, event: phone_call, params: {%s: 1}}`, `{"client_id":"1.2","events":[{"name":"phone_call","params":{%q:1}}]}`},
		{"user property", reserved.UserProperty, `{to: web, event: phone_call, user_properties: {%s: 1}}`, `{"client_id":"1.2","user_properties":{%q:{"value":1}},"events":[{"name":"phone_call"}]}`},
	}
	names := []string{
		"page_view", "video_complete", "view_complete", "app_store_subscription_convert", "ad_impression", "os_update",
		"google_call", "Google_call", "GA_x", "ga_x", "firebase_x", "query_id_x", "dynamic_link_x", "notification_x",
		"gclid", "session_number", "user_id", "first_open_time", "last_deep_link_referrer",
		"phone_call", "qualified_call", "duration", "outcome", "caller_tier", "currency",
	}
	for _, k := range kinds {
		for _, name := range names {
			t.Run(k.name+" "+name, func(t *testing.T) {
				_, want := k.check(name)
				rules := fmt.Sprintf("destinations:\n  web: {type: ga4, measurement_id: G-TEST1234}\nrules:\n  - name: r\n    send:\n      - "+k.rule+"\n", name)
				_, err := mapping.Parse("rules.yaml", []byte(rules))
				compilerRefuses := err != nil && strings.Contains(err.Error(), "reserve")
				if compilerRefuses != want {
					t.Errorf("rules compiler refuses %v (%v), want %v", compilerRefuses, err, want)
				}
				if emulatorReserved(t, emu.URL, fmt.Sprintf(k.body, name)) != want {
					t.Errorf("emulator reports NAME_RESERVED %v, want %v", !want, want)
				}
			})
		}
	}
}

// emulatorReserved reports whether the emulator's validation server
// answers body with NAME_RESERVED.
func emulatorReserved(t *testing.T, base, body string) bool {
	t.Helper()
	res, err := http.Post(base+"/debug/mp/collect?measurement_id=G-TEST1234&api_secret=x", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var reply struct {
		ValidationMessages []emulator.ValidationMessage `json:"validationMessages"`
	}
	if err := json.NewDecoder(res.Body).Decode(&reply); err != nil {
		t.Fatal(err)
	}
	for _, m := range reply.ValidationMessages {
		if m.ValidationCode == "NAME_RESERVED" {
			return true
		}
	}
	return false
}
