package mapping

import (
	"reflect"
	"strings"
	"testing"
)

// TestExampleRules loads the shipped examples/rules.yaml and checks what it
// plans for the sample webhooks (testdata/calls holds them decoded).
func TestExampleRules(t *testing.T) {
	t.Parallel()
	r, err := Load("../examples/rules.yaml")
	if err != nil {
		t.Fatalf("examples/rules.yaml does not load:\n%v", err)
	}
	if w := r.Warnings(); len(w) > 0 {
		t.Errorf("examples/rules.yaml has warnings:\n%s", strings.Join(w, "\n"))
	}
	got := r.Destinations()
	if len(got) != 2 || got[0].Type != "ga4" || got[0].MeasurementID != "G-HARBOUR01" ||
		got[1].Type != "google_ads" || got[1].CustomerID != "1234567890" || got[1].LoginCustomerID != "" || got[1].Backend != "data_manager" {
		t.Errorf("Destinations() = %+v, want the ga4 destination G-HARBOUR01 and the google_ads customer 1234567890 through data_manager", got)
	}
	_, calls := loadCalls(t)

	type event struct {
		name   string
		params map[string]any
	}
	// conversion is what matters of a Google Ads conversion here.
	type conversion struct {
		action, gclid string
		hashedPhone   bool
		value         float64
		currency      string
		consent       string
	}
	tests := []struct {
		call        string
		want        []event
		conversions []conversion
		// skipped lists the rules that matched but sent nothing.
		skipped []string
	}{
		{
			call: "answered-with-gclid",
			want: []event{
				{"phone_call", map[string]any{"duration": 187, "outcome": "ANSWERED", "number_name": "Website - Google Ads", "traffic_type": "Campaign"}},
				{"qualified_call", map[string]any{"value": 50, "currency": "AUD", "duration": 187, "number_name": "Website - Google Ads"}},
			},
			conversions: []conversion{{"987654321", "Cj0KCQiA4L67BhDUARIsADWrl7Gx1bX8kqZ3vM0wYtN5cQe9sRr2hLpD4fE_aBcD", true, 50, "AUD", "GRANTED"}},
		},
		{
			call: "answered-no-gclid",
			want: []event{
				{"phone_call", map[string]any{"duration": 95, "outcome": "ANSWERED", "number_name": "Website - Google Ads", "traffic_type": "Campaign"}},
				{"qualified_call", map[string]any{"value": 50, "currency": "AUD", "duration": 95, "number_name": "Website - Google Ads"}},
			},
		},
		{
			call: "anonymous-with-gclid",
			want: []event{
				{"phone_call", map[string]any{"duration": 75, "outcome": "ANSWERED", "number_name": "Website - Google Ads", "traffic_type": "Campaign"}},
				{"qualified_call", map[string]any{"value": 50, "currency": "AUD", "duration": 75, "number_name": "Website - Google Ads"}},
			},
			conversions: []conversion{{"987654321", "Cj0KCQiAanonymousCallerClickId0001", false, 50, "AUD", "GRANTED"}},
		},
		{
			call:    "anonymous-static",
			skipped: []string{"every-call", "qualified-call"},
		},
		{
			call: "initiate",
		},
		{
			call: "no-answer",
			want: []event{
				{"phone_call", map[string]any{"duration": 0, "outcome": "NO ANSWER", "number_name": "Website - Organic", "traffic_type": "Organic"}},
			},
		},
		{
			call: "survey-flat",
			want: []event{
				{"phone_call", map[string]any{"duration": 412, "outcome": "ANSWERED", "number_name": "Van signage"}},
				{"qualified_call", map[string]any{"value": 50, "currency": "AUD", "duration": 412, "number_name": "Van signage"}},
				{"booking", map[string]any{"value": 350, "currency": "AUD", "booking_type": "New booking", "source": "google", "campaign": "Hot Water 2026"}},
			},
			conversions: []conversion{{"987654321", "CjwKCAiA2ZG7BhBfEiwA9sWHtq3k", true, 50, "AUD", "GRANTED"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			c := calls[tc.call]
			var got []event
			var convs []conversion
			for _, d := range r.Evaluate(c) {
				if a := d.Ads; a != nil {
					if a.CustomerID != "1234567890" || a.Kind != "click" {
						t.Errorf("conversion %+v is not a click conversion for customer 1234567890", a)
					}
					var value float64
					if a.Value != nil {
						value = *a.Value
					}
					convs = append(convs, conversion{a.ConversionAction, a.GCLID, a.HashedPhone != "", value, a.Currency, a.AdUserData})
					continue
				}
				if d.GA4 == nil || d.GA4.MeasurementID != "G-HARBOUR01" || d.GA4.ClientID != c.GAClientID {
					t.Errorf("delivery %+v is not a GA4 event for G-HARBOUR01 and the call's client id", d)
					continue
				}
				got = append(got, event{d.GA4.Name, d.GA4.Params})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events:\n  %v\nwant:\n  %v", got, tc.want)
			}
			if !reflect.DeepEqual(convs, tc.conversions) {
				t.Errorf("Google Ads conversions:\n  %+v\nwant:\n  %+v", convs, tc.conversions)
			}
			var skipped []string
			for _, o := range r.Explain(c) {
				for _, s := range o.Skipped {
					skipped = append(skipped, o.Rule)
					if s.Reason != skipNoClientID {
						t.Errorf("rule %s skipped %s because %q, want %q", o.Rule, s.Destination, s.Reason, skipNoClientID)
					}
				}
			}
			if !reflect.DeepEqual(skipped, tc.skipped) {
				t.Errorf("skipped rules %v, want %v", skipped, tc.skipped)
			}
		})
	}
}
