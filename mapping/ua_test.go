package mapping

import (
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ua"
)

// checkUADelivery asserts that a UA delivery follows the call and passes
// every check the UA sender makes before sending.
func checkUADelivery(t *testing.T, name string, c *forwarder.Call, d forwarder.Delivery) {
	t.Helper()
	h := d.UA
	if h == nil || d.GA4 != nil || d.Ads != nil {
		t.Errorf("%s: UA delivery %s has UA %v, GA4 %v, Ads %v", name, d.ID, h, d.GA4, d.Ads)
		return
	}
	if h.ClientID != forwarder.CleanText(c.GAClientID) || !h.Time.Equal(c.StartDate) {
		t.Errorf("%s: UA delivery %s does not follow the call (client id or time differ)", name, d.ID)
	}
	if _, err := ua.BuildPayload(d, c.StartDate.Add(time.Minute)); err != nil {
		t.Errorf("%s: UA delivery %s would be refused by the sender: %v", name, d.ID, err)
	}
}

func TestUAPlan(t *testing.T) {
	const rules = `destinations:
  legacy: {type: ua, tracking_id: UA-12345-1}
rules:
  - name: a
    send:
      - to: legacy
        category: "{{Call.To.Name}}"
        action: "{{Call.Disposition}}"
        label: "{{Call.Survey.Type}}"
        value: "{{Call.Survey.Value}}"
        campaign: true
`
	r, err := Parse("rules.yaml", []byte(rules))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 25, 23, 41, 7, 0, time.UTC)
	minus := -3
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		name     string
		call     forwarder.Call
		wantSkip string
		check    func(t *testing.T, h *forwarder.UAHit)
	}{
		{
			name:     "no client id",
			call:     forwarder.Call{Sid: "CA1", Event: forwarder.EventComplete, ToName: "Web", Disposition: "ANSWERED"},
			wantSkip: skipNoUAClientID,
		},
		{
			name:     "empty category",
			call:     forwarder.Call{Sid: "CA1", Event: forwarder.EventComplete, GAClientID: "1.2", Disposition: "ANSWERED"},
			wantSkip: "the event category is empty",
		},
		{
			name:     "empty action",
			call:     forwarder.Call{Sid: "CA1", Event: forwarder.EventComplete, GAClientID: "1.2", ToName: "Web"},
			wantSkip: "the event action is empty",
		},
		{
			name: "negative value and no label left out, long texts cut in bytes",
			call: forwarder.Call{Sid: "CA1", Event: forwarder.EventComplete, GAClientID: "1.2", StartDate: start, ToName: long, Disposition: "ANSWERED",
				Survey:      forwarder.Survey{Value: &minus},
				Attribution: forwarder.Attribution{Source: "google", Medium: strings.Repeat("m", 60)}},
			check: func(t *testing.T, h *forwarder.UAHit) {
				if h.Value != nil || h.Label != "" {
					t.Errorf("value %v, label %q: want both left out", h.Value, h.Label)
				}
				if len(h.Category) != 150 || !strings.HasPrefix(long, h.Category) {
					t.Errorf("category is %d bytes, want the first 150 bytes of the name", len(h.Category))
				}
				want := map[string]string{"cs": "google", "cm": strings.Repeat("m", 50)}
				if len(h.Campaign) != len(want) || h.Campaign["cs"] != want["cs"] || h.Campaign["cm"] != want["cm"] {
					t.Errorf("campaign %v, want %v", h.Campaign, want)
				}
				if !h.Time.Equal(start) || h.TrackingID != "UA-12345-1" || h.ClientID != "1.2" {
					t.Errorf("hit %+v does not carry the call's time, the tracking id and the client id", h)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := r.Explain(&tt.call)
			if len(out) != 1 || !out[0].Matched {
				t.Fatalf("Explain = %+v, want one matching rule", out)
			}
			o := out[0]
			if tt.wantSkip != "" {
				if len(o.Skipped) != 1 || !strings.HasPrefix(o.Skipped[0].Reason, tt.wantSkip) || len(o.Deliveries) != 0 {
					t.Fatalf("skipped %+v, deliveries %d: want one skip starting %q", o.Skipped, len(o.Deliveries), tt.wantSkip)
				}
				return
			}
			if len(o.Deliveries) != 1 || o.Deliveries[0].UA == nil {
				t.Fatalf("deliveries %+v, skipped %+v: want one UA delivery", o.Deliveries, o.Skipped)
			}
			tt.check(t, o.Deliveries[0].UA)
		})
	}
}

func TestTruncateBytes(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc"},
		{"aé", 2, "a"},
		{"aé", 3, "aé"},
		{"ééé", 5, "éé"},
		{"", 0, ""},
	}
	for _, tt := range tests {
		if got := truncateBytes(tt.in, tt.max); got != tt.want {
			t.Errorf("truncateBytes(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
