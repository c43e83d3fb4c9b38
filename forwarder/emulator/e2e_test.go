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
	"github.com/callforward/callforward/forwarder/ga4"
)

// realisticDeliveries are deliveries as the rules plan them for real calls.
func realisticDeliveries() []forwarder.Delivery {
	start := testNow.Add(-20 * time.Minute)
	mk := func(sid, rule, name string, params map[string]any, edit func(*forwarder.Delivery)) forwarder.Delivery {
		d := forwarder.Delivery{
			ID: forwarder.DeliveryID(sid, rule, "web"), CallSid: sid, Rule: rule, Destination: "web",
			Type: forwarder.DestinationGA4, CallTime: start,
			GA4: &forwarder.GA4Event{MeasurementID: testMID, ClientID: testClientID, Name: name, Params: params, Time: start},
		}
		if edit != nil {
			edit(&d)
		}
		return d
	}
	return []forwarder.Delivery{
		mk("CA01", "every-call", "phone_call", map[string]any{"duration": 312, "outcome": "ANSWERED"}, nil),
		mk("CA02", "qualified-call", "phone_call_qualified", map[string]any{
			"session_id": "1792999100", "value": 120.0, "currency": "AUD", "call_duration_s": 312,
			"source": "google", "medium": "cpc", "campaign": "Brand – AU", "content": "call-ext",
			"traffic_type": "Campaign", "page_location": "https://example.com.au/contact?utm_source=google",
		}, nil),
		mk("CA03", "every-call", "phone_call", map[string]any{"duration": 0, "outcome": "NO ANSWER", "engagement_time_msec": 100}, nil),
		mk("CA04", "every-call", "phone_call", map[string]any{"duration": 45, "outcome": "BUSY"}, func(d *forwarder.Delivery) {
			d.GA4.Time = time.Time{} // falls back to the call time
			d.CallTime = testNow.Add(-70 * time.Hour)
		}),
		mk("CA05", "every-call", "phone_call", nil, func(d *forwarder.Delivery) {
			d.GA4.Time = testNow.Add(time.Minute) // the platform's clock is ahead
		}),
	}
}

func newSender(url string, client *http.Client) *ga4.Sender {
	return ga4.NewSender(ga4.Config{
		Endpoint:   url,
		Secrets:    map[string]string{testMID: testSecret},
		HTTPClient: client,
		Now:        func() time.Time { return testNow },
	})
}

func TestSenderToEmulator(t *testing.T) {
	s := newServer(emulator.Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	sender := newSender(srv.URL, srv.Client())
	ctx := context.Background()

	deliveries := realisticDeliveries()
	for _, d := range deliveries {
		t.Run("validate "+d.ID, func(t *testing.T) {
			msgs, err := sender.Validate(ctx, d)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if len(msgs) != 0 {
				t.Errorf("Validate: want no findings, got %v", msgs)
			}
		})
		if err := sender.Send(ctx, d); err != nil {
			t.Fatalf("Send %s: %v", d.ID, err)
		}
	}

	if dropped := s.GA4Dropped(); len(dropped) != 0 {
		t.Fatalf("want nothing dropped, got %+v", dropped)
	}
	events := s.GA4Events()
	if len(events) != len(deliveries) {
		t.Fatalf("want %d events recorded, got %d", len(deliveries), len(events))
	}
	wantTS := []int64{
		testNow.Add(-20 * time.Minute).UnixMicro(), testNow.Add(-20 * time.Minute).UnixMicro(),
		testNow.Add(-20 * time.Minute).UnixMicro(), testNow.Add(-70 * time.Hour).UnixMicro(), 0,
	}
	wantEngagement := []float64{1, 1, 100, 1, 1}
	for i, e := range events {
		d := deliveries[i]
		if e.MeasurementID != testMID || e.APISecret != testSecret || e.ClientID != testClientID || e.Name != d.GA4.Name {
			t.Errorf("event %d: want %s/%s/%s/%s, got %s/%s/%s/%s", i, testMID, testSecret, testClientID, d.GA4.Name,
				e.MeasurementID, e.APISecret, e.ClientID, e.Name)
		}
		if e.TimestampMicros != wantTS[i] {
			t.Errorf("event %d: want timestamp_micros %d, got %d", i, wantTS[i], e.TimestampMicros)
		}
		if got := e.Params["engagement_time_msec"]; got != wantEngagement[i] {
			t.Errorf("event %d: want engagement_time_msec %v, got %v", i, wantEngagement[i], got)
		}
		for k, v := range d.GA4.Params {
			want := v
			if n, ok := v.(int); ok {
				want = float64(n)
			}
			if !reflect.DeepEqual(e.Params[k], want) {
				t.Errorf("event %d: param %s: want %v, got %v", i, k, want, e.Params[k])
			}
		}
	}
}

func TestSenderSeesGoogleQuirks(t *testing.T) {
	s := newServer(emulator.Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	sender := newSender(srv.URL, srv.Client())

	d := realisticDeliveries()[0]
	d.GA4.Name = "page_view"
	msgs, err := sender.Validate(context.Background(), d)
	if err != nil || len(msgs) != 1 || msgs[0].ValidationCode != "NAME_RESERVED" {
		t.Errorf("Validate of a reserved name: want one NAME_RESERVED, got %v (%v)", msgs, err)
	}
	// Google answers 2xx and drops the event without a word.
	if err := sender.Send(context.Background(), d); err != nil {
		t.Errorf("Send of a reserved name: want nil (Google answers 204), got %v", err)
	}
	if n, dropped := len(s.GA4Events()), s.GA4Dropped(); n != 0 || len(dropped) != 1 {
		t.Errorf("want the event dropped, got %d kept and %+v dropped", n, dropped)
	}
}

func TestSenderClassifiesInjectedFaults(t *testing.T) {
	tests := []struct {
		name      string
		faults    emulator.Faults
		client    *http.Client
		wantKind  forwarder.Kind
		wantCodes []string
		wantAfter time.Duration
	}{
		{name: "5xx", faults: emulator.Faults{ErrorRate: 1},
			wantKind: forwarder.KindTransient, wantCodes: []string{"http_500", "http_503"}},
		{name: "429 with Retry-After: 1", faults: emulator.Faults{RateLimitRate: 1},
			wantKind: forwarder.KindRetryAfter, wantCodes: []string{"http_429"}, wantAfter: time.Second},
		{name: "gateway timeout", faults: emulator.Faults{TimeoutRate: 1, Timeout: time.Millisecond},
			wantKind: forwarder.KindTransient, wantCodes: []string{"http_504"}},
		{name: "client gives up first", faults: emulator.Faults{TimeoutRate: 1, Timeout: time.Hour},
			client: &http.Client{Timeout: 50 * time.Millisecond}, wantKind: forwarder.KindTransient, wantCodes: []string{"network"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(emulator.Options{Faults: tt.faults, Seed: 1})
			srv := httptest.NewServer(s.Handler())
			defer srv.Close()
			client := tt.client
			if client == nil {
				client = srv.Client()
			}
			sender := newSender(srv.URL, client)

			seen := map[string]bool{}
			for range 20 {
				err := sender.Send(context.Background(), realisticDeliveries()[0])
				se := forwarder.Classify(err)
				if err == nil || se.Kind != tt.wantKind || !contains(tt.wantCodes, se.Code) || se.After != tt.wantAfter {
					t.Fatalf("Send: want %s %v after %s, got %v", tt.wantKind, tt.wantCodes, tt.wantAfter, err)
				}
				seen[se.Code] = true
				if tt.client != nil {
					break // one slow round is enough
				}
			}
			if tt.client == nil && len(seen) != len(tt.wantCodes) {
				t.Errorf("want every code of %v over 20 sends, saw %v", tt.wantCodes, seen)
			}
			if n := len(s.GA4Events()) + len(s.GA4Dropped()); n != 0 {
				t.Errorf("faulted requests must record nothing, got %d", n)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
