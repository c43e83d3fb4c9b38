package httpreply_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ga4"
	"github.com/callforward/callforward/forwarder/googleads"
	"github.com/callforward/callforward/forwarder/httpreply"
	"github.com/callforward/callforward/forwarder/ua"
)

var now = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// sender sends one delivery to endpoint and returns its outcome.
type sender struct {
	name string
	send func(t *testing.T, endpoint string) error
}

func senders() []sender {
	at := now.Add(-time.Minute)
	ga4d := forwarder.Delivery{ID: "CA1/r/web", Type: forwarder.DestinationGA4, CallTime: at,
		GA4: &forwarder.GA4Event{MeasurementID: "G-TEST1", ClientID: "1.2", Name: "phone_call", Time: at}}
	uad := forwarder.Delivery{ID: "CA1/r/legacy", Type: forwarder.DestinationUA, CallTime: at,
		UA: &forwarder.UAHit{TrackingID: "UA-1-1", ClientID: "1.2", Category: "phone", Action: "call", Time: at}}
	ads := func(backend string) forwarder.Delivery {
		return forwarder.Delivery{ID: "CA1/r/ads", Type: forwarder.DestinationGoogleAds, CallTime: at,
			Ads: &forwarder.AdsConversion{Backend: backend, Kind: forwarder.AdsClick, CustomerID: "1234567890",
				ConversionAction: "987654321", Time: at, GCLID: "Cj0KCQabc", TransactionID: "tx1", AdUserData: "GRANTED"}}
	}
	adsSender := func(t *testing.T, endpoint string) *googleads.Sender {
		ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "token", Expiry: now.Add(time.Hour)})
		s, err := googleads.NewSender(context.Background(), googleads.Config{
			DataManagerEndpoint: endpoint, GoogleAdsEndpoint: endpoint, TokenSource: ts, AdsTokenSource: ts,
			Now: func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return []sender{
		{"ga4", func(t *testing.T, endpoint string) error {
			return ga4.NewSender(ga4.Config{Endpoint: endpoint, Secrets: map[string]string{"G-TEST1": "secret"}, Now: func() time.Time { return now }}).Send(context.Background(), ga4d)
		}},
		{"ua", func(t *testing.T, endpoint string) error {
			return ua.NewSender(ua.Config{Endpoint: endpoint, Now: func() time.Time { return now }}).Send(context.Background(), uad)
		}},
		{"google ads api", func(t *testing.T, endpoint string) error {
			return adsSender(t, endpoint).Send(context.Background(), ads(forwarder.AdsBackendGoogleAdsAPI))
		}},
		{"data manager", func(t *testing.T, endpoint string) error {
			return adsSender(t, endpoint).Send(context.Background(), ads(forwarder.AdsBackendDataManager))
		}},
	}
}

// TestPolicy is the reply policy, one row per kind of answer, and checks
// that every sender follows it: the same answer means the same thing
// whoever got it.
func TestPolicy(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		want       forwarder.Kind
		after      time.Duration
	}{
		{429, "7", forwarder.KindRetryAfter, 7 * time.Second},
		{429, now.Add(time.Minute).Format(http.TimeFormat), forwarder.KindRetryAfter, time.Minute},
		{429, "", forwarder.KindTransient, 0},
		{429, "soon", forwarder.KindTransient, 0},
		{503, "120", forwarder.KindRetryAfter, 2 * time.Minute},
		{503, "", forwarder.KindTransient, 0},
		{500, "30", forwarder.KindRetryAfter, 30 * time.Second},
		{502, "", forwarder.KindTransient, 0},
		{408, "5", forwarder.KindRetryAfter, 5 * time.Second},
		{408, "", forwarder.KindTransient, 0},
		{401, "", forwarder.KindTransient, 0},
		{400, "", forwarder.KindPermanent, 0},
		{400, "60", forwarder.KindPermanent, 0},
		{403, "", forwarder.KindPermanent, 0},
		{404, "", forwarder.KindPermanent, 0},
		{413, "", forwarder.KindPermanent, 0},
		{302, "", forwarder.KindTransient, 0},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%d Retry-After %q", tt.status, tt.retryAfter)
		t.Run(name, func(t *testing.T) {
			d := httpreply.Decide(tt.status, tt.retryAfter, now)
			if d.Kind != tt.want || d.After != tt.after {
				t.Errorf("Decide = %v after %v, want %v after %v", d.Kind, d.After, tt.want, tt.after)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				if tt.status == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `{"error":{"code":%d,"message":"answer %d"}}`, tt.status, tt.status)
			}))
			defer srv.Close()
			for _, s := range senders() {
				err := s.send(t, srv.URL)
				se := forwarder.Classify(err)
				if err == nil || se.Kind != tt.want || se.After != tt.after {
					t.Errorf("%s: %v (kind %v after %v), want kind %v after %v", s.name, err, se.Kind, se.After, tt.want, tt.after)
				}
			}
		})
	}
}
