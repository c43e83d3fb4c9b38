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
	if got := r.Destinations(); len(got) != 1 || got[0].Type != "ga4" || got[0].MeasurementID != "G-HARBOUR01" {
		t.Errorf("Destinations() = %+v, want one ga4 destination G-HARBOUR01", got)
	}
	_, calls := loadCalls(t)

	type event struct {
		name   string
		params map[string]any
	}
	tests := []struct {
		call string
		want []event
		// skipped lists the rules that matched but sent nothing.
		skipped []string
	}{
		{
			call: "answered-with-gclid",
			want: []event{
				{"phone_call", map[string]any{"duration": 187, "outcome": "ANSWERED", "number_name": "Website - Google Ads", "traffic_type": "Campaign"}},
				{"qualified_call", map[string]any{"value": 50, "currency": "AUD", "duration": 187, "number_name": "Website - Google Ads"}},
			},
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
		},
	}
	for _, tc := range tests {
		t.Run(tc.call, func(t *testing.T) {
			c := calls[tc.call]
			var got []event
			for _, d := range r.Evaluate(c) {
				if d.GA4 == nil || d.GA4.MeasurementID != "G-HARBOUR01" || d.GA4.ClientID != c.GAClientID {
					t.Errorf("delivery %+v is not a GA4 event for G-HARBOUR01 and the call's client id", d)
					continue
				}
				got = append(got, event{d.GA4.Name, d.GA4.Params})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events:\n  %v\nwant:\n  %v", got, tc.want)
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
