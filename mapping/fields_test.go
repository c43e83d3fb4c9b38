package mapping

import (
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// TestFields reads every documented webhook parameter from a call where
// each field holds a distinct value, so that a mis-wired accessor shows.
func TestFields(t *testing.T) {
	t.Parallel()
	dur, val := 187, 350
	c := &forwarder.Call{
		Action: "Webhook", Event: forwarder.EventComplete,
		AccountSid: "AC1", PropertySid: "PR1", PropertyName: "www.example.com", PropertyType: "Site",
		Sid: "CA1", StartDate: time.Date(2026, 11, 25, 23, 41, 7, 0, time.UTC),
		From: "+61412345678", FromCountry: "Australia", FromRegion: "NSW", FromCity: "Sydney",
		To: "+61291234567", ToType: "Dynamic", ToName: "Website",
		Duration: &dur, Disposition: forwarder.DispositionAnswered,
		RecordingURI: "https://rec/1.mp3", Endpoint: "+61298765432",
		Survey:      forwarder.Survey{Type: "New booking", Value: &val, Custom1: "c1", Custom2: "c2", Custom3: "c3", UniqueCode: "4821"},
		Prompts:     forwarder.Prompts{Postcodes: []string{"2000", "2010"}, Keys: []string{"1", "2000"}},
		Attribution: forwarder.Attribution{Source: "google", Medium: "cpc", Campaign: "Hot", Content: "ad-b"},
		Session:     forwarder.Session{TrafficType: "Campaign", Keywords: "plumber", ConversionURI: "https://c", LandingURI: "https://l"},
		GAClientID:  "1.2", GCLID: "gclid-1",
		Extra: map[string]string{"Call.Tag": "vip"},
	}
	want := map[string]any{
		"Action": "Webhook", "Event": "Call.Complete",
		"Account.Sid": "AC1", "Property.Sid": "PR1", "Property.Name": "www.example.com", "Property.Type": "Site",
		"Call.Sid": "CA1", "Call.StartDate": "2026-11-25 23:41:07",
		"Call.From": "+61412345678", "Call.From.Country": "Australia", "Call.From.Region": "NSW", "Call.From.City": "Sydney",
		"Call.To": "+61291234567", "Call.To.Type": "Dynamic", "Call.To.Name": "Website",
		"Call.Duration": 187, "Call.Disposition": "ANSWERED",
		"Call.Recording.Uri": "https://rec/1.mp3", "Call.Endpoint": "+61298765432",
		"Call.Survey.Type": "New booking", "Call.Survey.Value": 350,
		"Call.Survey.Custom1": "c1", "Call.Survey.Custom2": "c2", "Call.Survey.Custom3": "c3", "Call.Survey.UniqueCode": "4821",
		"Call.Prompts.Postcode": "2000,2010", "Call.Prompts.Keys": "1,2000",
		"Attribution.Source": "google", "Attribution.Medium": "cpc", "Attribution.Campaign": "Hot", "Attribution.Content": "ad-b",
		"Session.Traffic.Type": "Campaign", "Session.Keywords": "plumber", "Session.ConversionUri": "https://c", "Session.LandingUri": "https://l",
		"Google.Analytics.ClientId": "1.2", "Google.AdWords.ClickId": "gclid-1",
	}
	if len(want) != len(knownFields) {
		t.Errorf("%d documented fields, the test covers %d", len(knownFields), len(want))
	}
	for name, w := range want {
		f, known := lookupField(name)
		if !known {
			t.Errorf("%s is not a known field", name)
			continue
		}
		var got any
		if f.num != nil {
			got, _ = f.num(c)
		} else {
			got = f.str(c)
		}
		if got != w {
			t.Errorf("{{%s}} = %v, want %v", name, got, w)
		}
	}
	personal := map[string]bool{"Call.From": true, "Call.Endpoint": true, "Call.Recording.Uri": true, "Google.Analytics.ClientId": true, "Google.AdWords.ClickId": true}
	for _, f := range knownFields {
		if (f.personal != "") != personal[f.name] {
			t.Errorf("%s personal = %q, want personal %v", f.name, f.personal, personal[f.name])
		}
	}

	t.Run("case-insensitive and extra", func(t *testing.T) {
		if f, known := lookupField("call.survey.VALUE"); !known || f.name != "Call.Survey.Value" {
			t.Errorf("lookupField(call.survey.VALUE) = %v, %v; want Call.Survey.Value", f.name, known)
		}
		for _, name := range []string{"Call.Tag", "call.tag", "CALL.TAG"} {
			f, known := lookupField(name)
			if known || f.str(c) != "vip" {
				t.Errorf("lookupField(%s) known=%v reads %q, want an extra field reading vip", name, known, f.str(c))
			}
		}
		if f, _ := lookupField("Call.Missing"); f.str(c) != "" {
			t.Errorf("a missing extra field reads %q, want empty", f.str(c))
		}
	})
}
