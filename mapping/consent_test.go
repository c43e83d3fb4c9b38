package mapping

import (
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder"
)

// TestConsent checks where the consent of GA4 events and Google Ads
// conversions comes from: the action, then the destination (GA4), then
// settings, signal by signal.
func TestConsent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		settings  string
		ga4Dest   string // extra keys of the GA4 destination
		ga4Action string // extra keys of the GA4 action
		adsAction string // extra keys of the Google Ads action
		wantGA4   *forwarder.GA4Consent
		wantAds   string
	}{
		{name: "none", wantGA4: nil, wantAds: ""},
		{
			name:     "settings for both",
			settings: "settings: {consent: {ad_user_data: granted, ad_personalization: denied}}\n",
			wantGA4:  &forwarder.GA4Consent{AdUserData: "GRANTED", AdPersonalization: "DENIED"},
			wantAds:  "GRANTED",
		},
		{
			name:    "destination",
			ga4Dest: ", consent: {ad_user_data: Denied}",
			wantGA4: &forwarder.GA4Consent{AdUserData: "DENIED"},
		},
		{
			name:      "action over destination over settings, signal by signal",
			settings:  "settings: {consent: {ad_user_data: granted, ad_personalization: granted}}\n",
			ga4Dest:   ", consent: {ad_personalization: denied}",
			ga4Action: ", consent: {ad_user_data: denied}",
			adsAction: ", consent: {ad_user_data: denied}",
			wantGA4:   &forwarder.GA4Consent{AdUserData: "DENIED", AdPersonalization: "DENIED"},
			wantAds:   "DENIED",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := tc.settings + "destinations:\n" +
				"  web: {type: ga4, measurement_id: G-ABC123" + tc.ga4Dest + "}\n" +
				"  ads: {type: google_ads, customer_id: 123-456-7890}\n" +
				"rules:\n  - name: r\n    send:\n" +
				"      - {to: web, event: phone_call" + tc.ga4Action + "}\n" +
				"      - {to: ads, conversion_action: '1'" + tc.adsAction + "}\n"
			r, err := Parse("rules.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			c := adsCall("+61412345678", "gclid-1", nil)
			c.GAClientID = "123.456"
			ds := r.Evaluate(c)
			if len(ds) != 2 {
				t.Fatalf("%d deliveries, want 2", len(ds))
			}
			got := ds[0].GA4.Consent
			if (got == nil) != (tc.wantGA4 == nil) || got != nil && *got != *tc.wantGA4 {
				t.Errorf("GA4 consent %+v, want %+v", got, tc.wantGA4)
			}
			if ds[1].Ads.AdUserData != tc.wantAds {
				t.Errorf("Google Ads ad_user_data %q, want %q", ds[1].Ads.AdUserData, tc.wantAds)
			}
		})
	}
}

// TestConsentProblems checks the messages of wrong consent settings.
func TestConsentProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{
			"unknown value in settings",
			"settings: {consent: {ad_user_data: yes}}\n",
			`settings: ad_user_data "yes" is not one of granted, denied`,
		},
		{
			"empty consent on a GA4 action",
			"",
			"consent needs ad_user_data and/or ad_personalization",
		},
		{
			"ad_personalization on a Google Ads action",
			"",
			"ad_personalization cannot be sent with conversions",
		},
	}
	actions := map[string]string{
		"empty consent on a GA4 action":             "      - {to: web, event: phone_call, consent: {}}\n",
		"ad_personalization on a Google Ads action": "      - {to: ads, conversion_action: '1', consent: {ad_personalization: granted}}\n",
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			action := actions[tc.name]
			if action == "" {
				action = "      - {to: web, event: phone_call}\n"
			}
			src := tc.src + "destinations:\n  web: {type: ga4, measurement_id: G-ABC123}\n" +
				"  ads: {type: google_ads, customer_id: 123-456-7890}\n" +
				"rules:\n  - name: r\n    send:\n" + action
			_, err := Parse("rules.yaml", []byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
