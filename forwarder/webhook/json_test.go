package webhook

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParamsJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want url.Values
	}{
		{"flat dotted keys", `{"Call.Sid":"CA1","Call.From.Country":"Australia"}`, url.Values{"Call.Sid": {"CA1"}, "Call.From.Country": {"Australia"}}},
		{"nested objects flattened", `{"Call":{"Sid":"CA1","From":{"Country":"Australia","City":"Sydney"}}}`, url.Values{"Call.Sid": {"CA1"}, "Call.From.Country": {"Australia"}, "Call.From.City": {"Sydney"}}},
		{"flat and nested mixed", `{"Call.From":"+61412345678","Call.From":{"Region":"NSW"},"Google":{"AdWords.ClickId":"abc"}}`, url.Values{"Call.From": {"+61412345678"}, "Call.From.Region": {"NSW"}, "Google.AdWords.ClickId": {"abc"}}},
		{"empty nested object adds nothing", `{"Call":{},"Action":"Webhook"}`, url.Values{"Action": {"Webhook"}}},
		{"integer number", `{"Call.Duration":187}`, url.Values{"Call.Duration": {"187"}}},
		{"number kept as written", `{"Call.Duration":187.0,"X":1.50,"Y":1e2}`, url.Values{"Call.Duration": {"187.0"}, "X": {"1.50"}, "Y": {"1e2"}}},
		{"big number kept exactly", `{"X":123456789012345678901234567890}`, url.Values{"X": {"123456789012345678901234567890"}}},
		{"booleans", `{"A":true,"B":false}`, url.Values{"A": {"true"}, "B": {"false"}}},
		{"null is absent", `{"Call.Survey.Value":null,"Call":{"Endpoint":null}}`, url.Values{}},
		{"escapes decoded", `{"Call.To.Name":"Website \u2013 Google Ads"}`, url.Values{"Call.To.Name": {"Website – Google Ads"}}},
		{"duplicate keys keep both values", `{"Call.Sid":"CA1","Call.Sid":"CA1"}`, url.Values{"Call.Sid": {"CA1", "CA1"}}},
		{"empty object", `{}`, url.Values{}},
		{"surrounding whitespace", " \n{\"A\":\"b\"}\n", url.Values{"A": {"b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Params(http.MethodPost, "application/json; charset=utf-8", "", []byte(tt.body))
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestJSONNumbers checks how JSON numbers become the Call's integers.
func TestJSONNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		number  string
		want    int
		problem string
	}{
		{"187", 187, ""},
		{"187.0", 187, ""},
		{"187.000", 187, ""},
		{"0", 0, ""},
		{"1.87e2", 187, ""},
		{"18700E-2", 187, ""},
		{`"187"`, 187, ""},
		{"2147483647", 2147483647, ""},
		{"187.5", 0, `not an integer: "187.5"`},
		{"1.875e2", 0, "not an integer"},
		{"-1", 0, "must not be negative"},
		{"-0.0", 0, "must not be negative"},
		{"2147483648", 0, "out of range"},
		{"1e400", 0, "out of range"},
		{"123456789012345678901234567890", 0, "out of range"},
		{"true", 0, `not an integer: "true"`},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			t.Parallel()
			call, err := decodeRequest(jsonRequest(`,"Call.Survey.Value":` + tt.number))
			if err != nil {
				t.Fatalf("got error %v, want a Call", err)
			}
			if tt.problem != "" {
				// An optional field: dropped, the call kept.
				if call.Survey.Value != nil || len(call.Dropped) != 1 || call.Dropped[0].Field != "Call.Survey.Value" || !strings.Contains(call.Dropped[0].Reason, tt.problem) {
					t.Errorf("got Survey.Value %v, dropped %+v; want Call.Survey.Value dropped: ...%s...", call.Survey.Value, call.Dropped, tt.problem)
				}
				return
			}
			if call.Survey.Value == nil || *call.Survey.Value != tt.want {
				t.Errorf("got Survey.Value %v, want %d", call.Survey.Value, tt.want)
			}
		})
	}
}
