package googleads_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/googleads"
	"golang.org/x/oauth2"
)

// TestRequestFailures answers every request with a canned Google error
// and checks the classification, for both backends.
func TestRequestFailures(t *testing.T) {
	const gclid = "Cj0KCQsecretclick"
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   string
	}{
		{"invalid argument quoting the click", 400, nil,
			`{"error":{"code":400,"message":"Invalid value at 'events[0].ad_identifiers.gclid' (` + gclid + `)","status":"INVALID_ARGUMENT"}}`,
			"permanent/INVALID_ARGUMENT"},
		{"Ads failure code", 400, nil,
			`{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[{"errorCode":{"requestError":"INVALID_CUSTOMER_ID"},"message":"x"}]}]}}`,
			"permanent/INVALID_CUSTOMER_ID"},
		{"not allowlisted for the whole request", 400, nil,
			`{"error":{"code":400,"message":"no","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure","errors":[{"errorCode":{"conversionUploadError":"CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"}}]}]}}`,
			"permanent/CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"},
		{"permission denied", 403, nil,
			`{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]}}`,
			"permanent/ACCESS_TOKEN_SCOPE_INSUFFICIENT"},
		{"unauthenticated", 401, nil, `{"error":{"code":401,"message":"no","status":"UNAUTHENTICATED"}}`, "transient/UNAUTHENTICATED"},
		{"rate limited with Retry-After", 429, map[string]string{"Retry-After": "30"},
			`{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`, "retry_after/RESOURCE_EXHAUSTED/30s"},
		{"rate limited", 429, nil, `{"error":{"code":429,"message":"slow down","status":"RESOURCE_EXHAUSTED"}}`, "transient/RESOURCE_EXHAUSTED"},
		{"unavailable", 503, nil, `{"error":{"code":503,"message":"later","status":"UNAVAILABLE"}}`, "transient/UNAVAILABLE"},
		{"plain 502", 502, nil, `<html>bad gateway</html>`, "transient/http_502"},
	}
	for _, tt := range tests {
		for _, backend := range []string{forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI} {
			t.Run(tt.name+"/"+backend, func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(tt.status)
					_, _ = w.Write([]byte(tt.body))
				}))
				defer srv.Close()
				s := staticSender(t, srv.URL)
				err := s.Send(context.Background(), click(backend, gclid))
				if got := outcome(err); got != tt.want {
					t.Fatalf("outcome %s, want %s (%v)", got, tt.want, err)
				}
				if strings.Contains(err.Error(), gclid) || strings.Contains(err.Error(), testHash) {
					t.Errorf("error text holds personal data: %v", err)
				}
			})
		}
	}
}

func TestTransportFailures(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s := staticSender(t, url)
	for _, backend := range []string{forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI} {
		if got := outcome(s.Send(context.Background(), click(backend, "G"))); got != "transient/network" {
			t.Errorf("%s, server gone: %s, want transient/network", backend, got)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if got := outcome(s.Send(ctx, click(backend, "G"))); got != "transient/canceled" {
			t.Errorf("%s, cancelled: %s, want transient/canceled", backend, got)
		}
	}
}

func TestUploadReplyWithoutRowIndex(t *testing.T) {
	// An error without location applies to the rows whose result is empty.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"partialFailureError":{"code":3,"message":"m","details":[{"errors":[{"errorCode":{"internalError":"INTERNAL_ERROR"},"message":"oops"}]}]},"results":[{"gclid":"a"},{}]}`))
	}))
	defer srv.Close()
	s := staticSender(t, srv.URL)
	api := forwarder.AdsBackendGoogleAdsAPI
	errs := s.SendBatch(context.Background(), []forwarder.Delivery{click(api, "a"), click(api, "b")})
	if got := outcomes(errs); got[0] != "ok" || got[1] != "transient/INTERNAL_ERROR" {
		t.Errorf("outcomes %v, want [ok transient/INTERNAL_ERROR]", got)
	}
}

// staticSender is a sender with static tokens pointed at url.
func staticSender(t *testing.T, url string) *googleads.Sender {
	t.Helper()
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok", Expiry: time.Now().Add(time.Hour)})
	s, err := googleads.NewSender(context.Background(), googleads.Config{
		DataManagerEndpoint: url, GoogleAdsEndpoint: url,
		TokenSource: ts, AdsTokenSource: ts,
		Now: func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
