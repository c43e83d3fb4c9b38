package emulator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/ua"
)

func uaDeliveries() []forwarder.Delivery {
	start := testNow.Add(-20 * time.Minute)
	value := 120
	mk := func(sid string, edit func(*forwarder.UAHit)) forwarder.Delivery {
		h := &forwarder.UAHit{TrackingID: testTID, ClientID: testClientID, Category: "phone", Action: "call", Label: "ANSWERED", Time: start}
		if edit != nil {
			edit(h)
		}
		return forwarder.Delivery{
			ID: forwarder.DeliveryID(sid, "every-call", "legacy"), CallSid: sid, Rule: "every-call", Destination: "legacy",
			Type: forwarder.DestinationUA, CallTime: start, UA: h,
		}
	}
	return []forwarder.Delivery{
		mk("CA01", nil),
		mk("CA02", func(h *forwarder.UAHit) {
			h.Action, h.Value, h.NonInteraction = "qualified call", &value, true
			h.Campaign = map[string]string{"cn": "Brand – AU", "cs": "google", "cm": "cpc", "ck": "plumber sydney", "cc": "call-ext", "ci": "1234"}
		}),
		mk("CA03", func(h *forwarder.UAHit) { h.Time = testNow.Add(-4 * time.Hour) }),
		mk("CA04", func(h *forwarder.UAHit) { h.Time = testNow.Add(time.Minute) }), // the platform's clock is ahead
	}
}

func newUASender(url string, client *http.Client) *ua.Sender {
	return ua.NewSender(ua.Config{Endpoint: url, HTTPClient: client, Now: func() time.Time { return testNow }})
}

func TestUASenderToEmulator(t *testing.T) {
	s := newServer(emulator.Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	sender := newUASender(srv.URL, srv.Client())
	ctx := context.Background()

	deliveries := uaDeliveries()
	for _, d := range deliveries {
		res, err := sender.Validate(ctx, d)
		if err != nil || !res.Valid || len(res.Messages) != 0 {
			t.Errorf("Validate %s: want valid without findings, got %+v (%v)", d.ID, res, err)
		}
		if err := sender.Send(ctx, d); err != nil {
			t.Fatalf("Send %s: %v", d.ID, err)
		}
	}
	if dropped := s.UADropped(); len(dropped) != 0 {
		t.Fatalf("want nothing dropped, got %+v", dropped)
	}
	hits := s.UAHits()
	if len(hits) != len(deliveries) {
		t.Fatalf("want %d hits recorded, got %d", len(deliveries), len(hits))
	}
	wantTimes := []time.Time{testNow.Add(-20 * time.Minute), testNow.Add(-20 * time.Minute), testNow.Add(-4 * time.Hour), testNow}
	for i, h := range hits {
		d := deliveries[i].UA
		if h.TrackingID != testTID || h.ClientID != testClientID || h.HitType != "event" ||
			h.Category != d.Category || h.Action != d.Action || h.Label != d.Label || h.NonInteraction != d.NonInteraction {
			t.Errorf("hit %d: want %+v, got %+v", i, d, h)
		}
		if !h.HitTime.Equal(wantTimes[i]) {
			t.Errorf("hit %d: want hit time %s, got %s", i, wantTimes[i], h.HitTime)
		}
		if (d.Value == nil) != (h.Value == nil) || (d.Value != nil && int64(*d.Value) != *h.Value) {
			t.Errorf("hit %d: want value %v, got %v", i, d.Value, h.Value)
		}
		if len(d.Campaign) > 0 && !reflect.DeepEqual(h.Campaign, d.Campaign) {
			t.Errorf("hit %d: want campaign %v, got %v", i, d.Campaign, h.Campaign)
		}
	}
}

func TestUASenderRefusesWhatTheCollectorWouldDrop(t *testing.T) {
	s := newServer(emulator.Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	sender := newUASender(srv.URL, srv.Client())

	d := uaDeliveries()[0]
	d.UA.Time = testNow.Add(-4*time.Hour - time.Second)
	err := sender.Send(context.Background(), d)
	if se := forwarder.Classify(err); err == nil || se.Kind != forwarder.KindPermanent || se.Code != "hit_too_old" {
		t.Fatalf("Send of a hit past 4 h: want permanent hit_too_old, got %v", err)
	}
	if n := len(s.UAHits()) + len(s.UADropped()); n != 0 {
		t.Errorf("want nothing sent, got %d recorded", n)
	}
}

func TestUASenderClassifiesInjectedFaults(t *testing.T) {
	tests := []struct {
		name      string
		faults    emulator.Faults
		wantKind  forwarder.Kind
		wantCodes []string
		wantAfter time.Duration
	}{
		{name: "5xx", faults: emulator.Faults{ErrorRate: 1}, wantKind: forwarder.KindTransient, wantCodes: []string{"http_500", "http_503"}},
		{name: "429 with Retry-After: 1", faults: emulator.Faults{RateLimitRate: 1},
			wantKind: forwarder.KindRetryAfter, wantCodes: []string{"http_429"}, wantAfter: time.Second},
		{name: "gateway timeout", faults: emulator.Faults{TimeoutRate: 1, Timeout: time.Millisecond},
			wantKind: forwarder.KindTransient, wantCodes: []string{"http_504"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(emulator.Options{Faults: tt.faults, Seed: 1})
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			sender := newUASender(srv.URL, srv.Client())

			seen := map[string]bool{}
			for range 20 {
				err := sender.Send(context.Background(), uaDeliveries()[0])
				se := forwarder.Classify(err)
				if err == nil || se.Kind != tt.wantKind || !contains(tt.wantCodes, se.Code) || se.After != tt.wantAfter {
					t.Fatalf("Send: want %s %v after %s, got %v", tt.wantKind, tt.wantCodes, tt.wantAfter, err)
				}
				seen[se.Code] = true
			}
			if len(seen) != len(tt.wantCodes) {
				t.Errorf("want every code of %v over 20 sends, saw %v", tt.wantCodes, seen)
			}
			if n := len(s.UAHits()) + len(s.UADropped()); n != 0 {
				t.Errorf("faulted requests must record nothing, got %d", n)
			}
		})
	}
}
