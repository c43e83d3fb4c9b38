package ua

import (
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testNow is the fixed clock of these tests.
var testNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

const (
	testTID      = "UA-12345678-1"
	testClientID = "1234567890.1700000000"
)

func intPtr(n int) *int { return &n }

// testDelivery returns a realistic delivery of a call that started twenty
// minutes before testNow, changed by edit.
func testDelivery(edit func(d *forwarder.Delivery)) forwarder.Delivery {
	start := testNow.Add(-20 * time.Minute)
	d := forwarder.Delivery{
		ID:          forwarder.DeliveryID("CA0123456789abcdef", "every-call", "legacy"),
		CallSid:     "CA0123456789abcdef",
		Rule:        "every-call",
		Destination: "legacy",
		Type:        forwarder.DestinationUA,
		CallTime:    start,
		UA: &forwarder.UAHit{
			TrackingID: testTID,
			ClientID:   testClientID,
			Category:   "phone",
			Action:     "call",
			Label:      "ANSWERED",
			Time:       start,
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
		{"attributed", func(d *forwarder.Delivery) {
			d.UA.Action = "qualified call"
			d.UA.Value = intPtr(120)
			d.UA.NonInteraction = true
			d.UA.Campaign = map[string]string{
				"cn": "Brand – AU", "cs": "google", "cm": "cpc", "ck": "plumber sydney", "cc": "call-ext", "ci": "1234",
			}
		}},
		{"zero_value_no_label", func(d *forwarder.Delivery) {
			d.UA.Value = intPtr(0)
			d.UA.Label = ""
			d.UA.Campaign = map[string]string{"cs": "google", "cm": ""}
		}},
		{"future_time", func(d *forwarder.Delivery) { d.UA.Time = testNow.Add(5 * time.Minute) }},
		{"call_time_fallback", func(d *forwarder.Delivery) {
			d.UA.Time = time.Time{}
			d.CallTime = testNow.Add(-2*time.Hour - 1500*time.Millisecond)
		}},
		{"no_time", func(d *forwarder.Delivery) {
			d.UA.Time = time.Time{}
			d.CallTime = time.Time{}
		}},
		{"exactly_4h", func(d *forwarder.Delivery) { d.UA.Time = testNow.Add(-MaxQueueTime) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := BuildPayload(testDelivery(tt.edit), testNow)
			if err != nil {
				t.Fatalf("BuildPayload: unexpected error %v", err)
			}
			got := encode(v) + "\n"
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("payload differs from %s\ngot:  %s\nwant: %s", golden, got, want)
			}
			back, err := url.ParseQuery(strings.TrimSpace(got))
			if err != nil {
				t.Fatalf("encoded payload does not parse back: %v", err)
			}
			if back.Encode() != v.Encode() {
				t.Errorf("encoded payload parses back to %v, want %v", back, v)
			}
		})
	}
}

func TestBuildPayloadRefuses(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name     string
		edit     func(d *forwarder.Delivery)
		wantCode string // "" means accepted
	}{
		{"no UA hit", func(d *forwarder.Delivery) { d.UA = nil }, "no_ua_hit"},
		{"no tracking id", func(d *forwarder.Delivery) { d.UA.TrackingID = "" }, "bad_tracking_id"},
		{"GA4 measurement id", func(d *forwarder.Delivery) { d.UA.TrackingID = "G-ABC123XYZ" }, "bad_tracking_id"},
		{"tracking id without view", func(d *forwarder.Delivery) { d.UA.TrackingID = "UA-1234" }, "bad_tracking_id"},
		{"lower-case tracking id", func(d *forwarder.Delivery) { d.UA.TrackingID = "ua-1234-1" }, "bad_tracking_id"},
		{"no client id", func(d *forwarder.Delivery) { d.UA.ClientID = "" }, "no_client_id"},
		{"no category", func(d *forwarder.Delivery) { d.UA.Category = "" }, "no_event_category"},
		{"no action", func(d *forwarder.Delivery) { d.UA.Action = "" }, "no_event_action"},
		{"negative value", func(d *forwarder.Delivery) { d.UA.Value = intPtr(-1) }, "negative_value"},
		{"category 150 bytes", func(d *forwarder.Delivery) { d.UA.Category = long(150) }, ""},
		{"category 151 bytes", func(d *forwarder.Delivery) { d.UA.Category = long(151) }, "value_too_long"},
		{"category counted in bytes", func(d *forwarder.Delivery) { d.UA.Category = strings.Repeat("é", 76) }, "value_too_long"},
		{"action 500 bytes", func(d *forwarder.Delivery) { d.UA.Action = long(500) }, ""},
		{"action 501 bytes", func(d *forwarder.Delivery) { d.UA.Action = long(501) }, "value_too_long"},
		{"label 501 bytes", func(d *forwarder.Delivery) { d.UA.Label = long(501) }, "value_too_long"},
		{"campaign medium 51 bytes", func(d *forwarder.Delivery) { d.UA.Campaign = map[string]string{"cm": long(51)} }, "value_too_long"},
		{"campaign name 101 bytes", func(d *forwarder.Delivery) { d.UA.Campaign = map[string]string{"cn": long(101)} }, "value_too_long"},
		{"campaign keyword 500 bytes", func(d *forwarder.Delivery) { d.UA.Campaign = map[string]string{"ck": long(500)} }, ""},
		{"unknown campaign parameter", func(d *forwarder.Delivery) { d.UA.Campaign = map[string]string{"utm_source": "google"} }, "unknown_campaign_param"},
		{"payload over 8 KB once escaped", func(d *forwarder.Delivery) {
			d.UA.Action = strings.Repeat("/", 500)
			d.UA.Label = strings.Repeat("/", 500)
			d.UA.Campaign = map[string]string{"ck": strings.Repeat("é", 250), "cc": strings.Repeat("é", 250)}
			d.UA.ClientID = strings.Repeat("1", 3000)
		}, "payload_too_large"},
		{"older than 4 h", func(d *forwarder.Delivery) { d.UA.Time = testNow.Add(-MaxQueueTime - time.Millisecond) }, "hit_too_old"},
		{"call time older than 4 h", func(d *forwarder.Delivery) {
			d.UA.Time = time.Time{}
			d.CallTime = testNow.Add(-5 * time.Hour)
		}, "hit_too_old"},
		{"exactly 4 h old", func(d *forwarder.Delivery) { d.UA.Time = testNow.Add(-MaxQueueTime) }, ""},
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
			if strings.Contains(err.Error(), testClientID) {
				t.Errorf("error text leaks the client id: %q", err.Error())
			}
		})
	}
}

func TestCacheBuster(t *testing.T) {
	a, b := cacheBuster("CA01/every-call/legacy"), cacheBuster("CA02/every-call/legacy")
	if a == b {
		t.Errorf("cacheBuster: want different values for different deliveries, got %q twice", a)
	}
	if again := cacheBuster("CA01/every-call/legacy"); again != a {
		t.Errorf("cacheBuster: want a stable value, got %q then %q", a, again)
	}
}

func TestEncodeOrder(t *testing.T) {
	v := url.Values{"z": {"9"}, "cd1": {"x y"}, "v": {"1"}, "tid": {testTID}, "aip": {"1"}}
	want := "v=1&tid=" + testTID + "&aip=1&cd1=x+y&z=9"
	if got := encode(v); got != want {
		t.Errorf("encode: want %q, got %q", want, got)
	}
}
