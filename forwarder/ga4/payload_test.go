package ga4

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// checkGolden compares a payload with testdata/<name>.golden, rewriting
// the file first under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("payload differs from %s\ngot:  %s\nwant: %s", golden, got, want)
	}
}

// testNow is the fixed clock of these tests.
var testNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

const (
	testMID      = "G-ABC123XYZ"
	testClientID = "1234567890.1700000000"
)

// testDelivery returns a realistic delivery of a call that started an hour
// before testNow, changed by edit.
func testDelivery(edit func(d *forwarder.Delivery)) forwarder.Delivery {
	start := testNow.Add(-time.Hour)
	d := forwarder.Delivery{
		ID:          forwarder.DeliveryID("CA0123456789abcdef", "every-call", "web"),
		CallSid:     "CA0123456789abcdef",
		Rule:        "every-call",
		Destination: "web",
		Type:        forwarder.DestinationGA4,
		CallTime:    start,
		GA4: &forwarder.GA4Event{
			MeasurementID: testMID,
			ClientID:      testClientID,
			Name:          "phone_call",
			Params:        map[string]any{"duration": 312, "outcome": "ANSWERED"},
			Time:          start,
		},
	}
	if edit != nil {
		edit(&d)
	}
	return d
}

func TestBuildPayloadGolden(t *testing.T) {
	tests := []struct {
		name string
		edit func(d *forwarder.Delivery)
	}{
		{"call", nil},
		{"no_params", func(d *forwarder.Delivery) { d.GA4.Params = nil }},
		{"attributed", func(d *forwarder.Delivery) {
			d.GA4.Name = "phone_call_qualified"
			d.GA4.Params = map[string]any{
				"session_id": "1792999100", "value": 120.5, "currency": "AUD",
				"call_duration_s": 312, "source": "google", "medium": "cpc", "campaign": "brand",
			}
		}},
		{"user_properties", func(d *forwarder.Delivery) {
			d.GA4.UserProperties = map[string]any{"caller_country": "Australia", "lifetime_calls": 3}
		}},
		{"consent", func(d *forwarder.Delivery) {
			d.GA4.Consent = &forwarder.GA4Consent{AdUserData: "GRANTED", AdPersonalization: "DENIED"}
		}},
		{"engagement_set", func(d *forwarder.Delivery) {
			d.GA4.Params = map[string]any{"engagement_time_msec": 2500}
		}},
		{"future_time", func(d *forwarder.Delivery) { d.GA4.Time = testNow.Add(5 * time.Minute) }},
		{"call_time_fallback", func(d *forwarder.Delivery) {
			d.GA4.Time = time.Time{}
			d.CallTime = testNow.Add(-2 * time.Hour)
		}},
		{"no_time", func(d *forwarder.Delivery) {
			d.GA4.Time = time.Time{}
			d.CallTime = time.Time{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildPayload(testDelivery(tt.edit), testNow)
			if err != nil {
				t.Fatalf("BuildPayload: unexpected error %v", err)
			}
			if !json.Valid(got) {
				t.Fatalf("BuildPayload returned invalid JSON: %s", got)
			}
			checkGolden(t, tt.name, got)
		})
	}
}

func TestBuildPayloadRefuses(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(d *forwarder.Delivery)
		wantCode string // "" means accepted
	}{
		{"no GA4 event", func(d *forwarder.Delivery) { d.GA4 = nil }, "no_ga4_event"},
		{"no client id", func(d *forwarder.Delivery) { d.GA4.ClientID = "" }, "no_client_id"},
		{"no event name", func(d *forwarder.Delivery) { d.GA4.Name = "" }, "no_event_name"},
		{"older than 72 h", func(d *forwarder.Delivery) { d.GA4.Time = testNow.Add(-73 * time.Hour) }, "event_too_old"},
		{"call time older than 72 h", func(d *forwarder.Delivery) {
			d.GA4.Time = time.Time{}
			d.CallTime = testNow.Add(-80 * time.Hour)
		}, "event_too_old"},
		{"too close to 72 h to arrive in time", func(d *forwarder.Delivery) {
			d.GA4.Time = testNow.Add(-MaxEventAge + 30*time.Second)
		}, "event_too_old"},
		{"71 h old", func(d *forwarder.Delivery) { d.GA4.Time = testNow.Add(-71 * time.Hour) }, ""},
		{"unencodable param", func(d *forwarder.Delivery) { d.GA4.Params = map[string]any{"value": math.NaN()} }, "bad_params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BuildPayload(testDelivery(tt.edit), testNow)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("BuildPayload: want no error, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("BuildPayload: want permanent %q error, got none", tt.wantCode)
			}
			se := forwarder.Classify(err)
			if se.Kind != forwarder.KindPermanent || se.Code != tt.wantCode {
				t.Errorf("BuildPayload: want permanent %q, got %s %q (%v)", tt.wantCode, se.Kind, se.Code, err)
			}
		})
	}
}

func TestBuildPayloadEngagementTime(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]any
		want   any // as decoded from JSON
	}{
		{"absent: added as 1", map[string]any{"outcome": "BUSY"}, float64(1)},
		{"nil params: added as 1", nil, float64(1)},
		{"set by the rule: kept", map[string]any{"engagement_time_msec": 2500}, float64(2500)},
		{"set as a string: kept", map[string]any{"engagement_time_msec": "40"}, "40"},
		{"set to 0: kept as the rule says", map[string]any{"engagement_time_msec": 0}, float64(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDelivery(func(d *forwarder.Delivery) { d.GA4.Params = tt.params })
			before := len(tt.params)
			body, err := BuildPayload(d, testNow)
			if err != nil {
				t.Fatalf("BuildPayload: %v", err)
			}
			var got struct {
				Events []struct {
					Params map[string]any `json:"params"`
				} `json:"events"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("decode payload: %v", err)
			}
			if len(got.Events) != 1 {
				t.Fatalf("want 1 event, got %d in %s", len(got.Events), body)
			}
			if v := got.Events[0].Params["engagement_time_msec"]; v != tt.want {
				t.Errorf("engagement_time_msec: want %v (%T), got %v (%T)", tt.want, tt.want, v, v)
			}
			if len(tt.params) != before {
				t.Errorf("BuildPayload modified the delivery's params: %v", tt.params)
			}
		})
	}
}

func BenchmarkBuildPayload(b *testing.B) {
	d := testDelivery(func(d *forwarder.Delivery) {
		d.GA4.Params = map[string]any{
			"session_id": "1792999100", "value": 120.5, "currency": "AUD", "call_duration_s": 312,
			"outcome": "ANSWERED", "source": "google", "medium": "cpc", "campaign": "brand",
		}
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildPayload(d, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
