package mapping

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, "../examples/rules.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range brokenCases {
		f.Add([]byte(tc.yaml))
	}
	call := &forwarder.Call{Event: forwarder.EventComplete, Sid: "CA1", GAClientID: "1.2"}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("fuzz.yaml", data)
		if (r == nil) == (err == nil) {
			t.Fatalf("Parse returned rules %v and error %v: want exactly one", r != nil, err)
		}
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse error %v (%T) is not a non-empty ErrorList", err, err)
			}
			for _, e := range list {
				if e.Pos.File != "fuzz.yaml" || e.Pos.Line < 1 || e.Msg == "" {
					t.Fatalf("problem without a position or message: %+v", e)
				}
			}
			return
		}
		ev := r.Evaluate(call)
		checkConsistent(t, "fuzz", call, ev, r.Explain(call))
		for _, d := range ev {
			if _, err := json.Marshal(d); err != nil {
				t.Fatalf("delivery does not encode: %v", err)
			}
		}
	})
}

// fuzzRules uses every matcher, every kind of value, every kind of
// Google Ads action and a UA hit.
const fuzzRules = `
settings: {default_region: AU}
destinations:
  web: {type: ga4, measurement_id: G-TEST1234}
  two: {type: ga4, measurement_id: G-TEST5678}
  ads: {type: google_ads, customer_id: 123-456-7890, login_customer_id: 111-222-3333}
  api: {type: google_ads, customer_id: "9876543210", backend: google_ads_api}
  legacy: {type: ua, tracking_id: UA-12345-1}
rules:
  - name: ua
    send:
      - {to: legacy, category: "{{Call.To.Name}}", action: "{{Call.Disposition}} {{Custom.Field}}", label: "{{Call.From.City}}", value: "{{Call.Survey.Value}}", non_interaction: true, campaign: true}
  - name: ads-click
    send:
      - {to: ads, conversion_action: "1", caller_phone: hashed, value: "{{Call.Survey.Value}}", default_value: 5, currency: AUD, consent: {ad_user_data: granted}}
      - {to: api, conversion_action: "2", kind: call, value: "{{Call.Duration}}", currency: AUD}
  - name: ads-gclid
    when: {has_gclid: true}
    send: [{to: ads, conversion_action: "3", time: end, value: 12.5, currency: USD}]
  - name: initiate
    when: {event: Call.Initiate, number_type: Dynamic}
    send: [{to: web, event: call_started, params: {name: "{{Call.To.Name}}"}}]
  - name: every
    send:
      - to: web
        event: phone_call
        params:
          duration: "{{Call.Duration}}"
          outcome: "{{Call.Disposition}}"
          label: "{{Call.From.City}}/{{Call.Duration}}/{{Session.Keywords}}/{{Custom.Field}}"
          survey: "{{Call.Survey.Value}}"
          keys: "{{Call.Prompts.Keys}}"
          started: "{{Call.StartDate}}"
          extra: "{{Custom.Field}}"
          value: 1.5
          currency: AUD
          computed: {expr: 'call.duration >= 300 ? "long" : attribution.source + "/" + extra["Custom.Field"]'}
          scaled: {expr: 'double(call.survey_value) * 1.5'}
        user_properties:
          tier: {expr: 'call.survey_value == null ? 0 : call.survey_value'}
          city: "{{Call.From.City}}"
  - name: qualified
    when: {disposition: [ANSWERED, "NO ANSWER"], min_duration: 30, max_duration: 3600, traffic_type: [Campaign, Organic]}
    stop: true
    send: [{to: web, event: qualified_call}, {to: two, event: qualified_call}]
  - name: others
    when: {property: [PR1, PR2], account: AC1, number_name: [a, b], has_client_id: true, has_gclid: false, has_survey_value: true, survey_type: x}
    send: [{to: two, event: other_call}]
  - name: expressions
    when:
      source: [google, "*bing*", "/^(fb|meta)$/"]
      medium: cpc
      campaign: "/plumb/"
      min_survey_value: 1
      max_survey_value: 500
      has_caller_phone: true
      country: Australia
      expr: 'call.duration >= 60 && extra["Custom.Field"] != "" && call.start_time.getHours("Australia/Sydney") < 23 && (call.survey_value == null || call.survey_value > 2)'
    send: [{to: two, event: expression_call}, {to: ads, conversion_action: "4", value: {expr: 'call.duration > 60 ? 10.0 * double(call.survey_value) : -1.0'}, default_value: 1, currency: AUD}]
`

func FuzzEvaluate(f *testing.F) {
	r, err := Parse("fuzz.yaml", []byte(fuzzRules))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Call.Complete", "ANSWERED", 120, true, "Website", "Dynamic", "Campaign", "1.2", "", 50, true, "Sydney", "plumber", "Custom.Field", "v", "PR1", int64(1764110422), "+61412345678")
	f.Add("Call.Initiate", "", 0, false, "", "", "", "", "gclid", 0, false, "", "", "", "", "", int64(0), "anonymous")
	f.Add("call.complete", "no answer", -5, true, "ä\xff", "dynamic", "organic", "x", "y", -1, true, "\x00", "{{Call.Duration}}", "custom.field", "\xff", "pr2", int64(-1), "0412 345 678")
	f.Add("Call.Complete", "ANSWERED", 61, true, "", "Static", "", "", "", 0, true, "", "", "", "", "", int64(1764110422), "12345")
	f.Add("Call.Complete", "ANSWERED", 30, true, strings.Repeat("é", 120), "", "", "3.4", "", 7, true, strings.Repeat("x", 600), "", "Custom.Field", strings.Repeat("ü", 300), "", int64(1764110422), "")
	f.Add("Call.Complete", "BUSY", 3, true, "", "", "", "", "Cj0", 0, false, "", "", "", "", "", int64(1764110422), "+1 (800) 555-0100 ext. 7")
	f.Fuzz(func(t *testing.T, event, disposition string, duration int, hasDuration bool, toName, toType, traffic, clientID, gclid string,
		survey int, hasSurvey bool, city, keywords, extraKey, extraVal, property string, start int64, from string) {
		c := &forwarder.Call{
			Event:       forwarder.Event(event),
			Sid:         "CA" + property,
			StartDate:   time.Unix(start%(1<<40), 0),
			PropertySid: property,
			AccountSid:  "AC1",
			From:        from,
			FromCity:    city,
			ToName:      toName,
			ToType:      toType,
			Disposition: forwarder.Disposition(disposition),
			Session:     forwarder.Session{TrafficType: traffic, Keywords: keywords},
			GAClientID:  clientID,
			GCLID:       gclid,
			Prompts:     forwarder.Prompts{Keys: []string{city, keywords}},
			Extra:       map[string]string{extraKey: extraVal},
		}
		if hasDuration {
			c.Duration = &duration
		}
		if hasSurvey {
			c.Survey.Value = &survey
		}
		checkConsistent(t, "fuzz", c, r.Evaluate(c), r.Explain(c))
	})
}
