package emulator_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

const (
	scopeDM  = "https://www.googleapis.com/auth/datamanager"
	scopeAds = "https://www.googleapis.com/auth/adwords"
	// testHash is a SHA-256 hash in lowercase hex.
	testHash = "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3"
)

// clock is a settable clock for the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// postForm posts form values to target.
func postForm(h http.Handler, target string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// refreshForm is a refresh-token grant for rt.
func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {"id"}, "client_secret": {"cs"}, "refresh_token": {rt}}
}

// accessToken gets an access token from h for refresh token rt.
func accessToken(t *testing.T, h http.Handler, rt string) string {
	t.Helper()
	rec := postForm(h, "/token", refreshForm(rt))
	if rec.Code != http.StatusOK {
		t.Fatalf("token: want 200, got %d: %s", rec.Code, rec.Body)
	}
	var reply struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil || reply.AccessToken == "" {
		t.Fatalf("token: no access token in %s (%v)", rec.Body, err)
	}
	return reply.AccessToken
}

// callAPI posts body to target with a bearer token and extra headers.
func callAPI(h http.Handler, target, token, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// googleErr is a Google error answer as tests read it.
type googleErr struct {
	Error struct {
		Code    int    `json:"code"`
		Status  string `json:"status"`
		Details []struct {
			Type            string `json:"@type"`
			Reason          string `json:"reason"`
			FieldViolations []struct {
				Field  string `json:"field"`
				Reason string `json:"reason"`
			} `json:"fieldViolations"`
			Errors []struct {
				ErrorCode map[string]string `json:"errorCode"`
			} `json:"errors"`
		} `json:"details"`
	} `json:"error"`
}

// reasons returns the ErrorInfo reason, the field violations and the
// GoogleAdsFailure error codes of a Google error answer, as one list.
func reasons(t *testing.T, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	var e googleErr
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("decode error answer %s: %v", rec.Body, err)
	}
	out := []string{e.Error.Status}
	for _, d := range e.Error.Details {
		if d.Reason != "" {
			out = append(out, d.Reason)
		}
		for _, v := range d.FieldViolations {
			out = append(out, v.Field+":"+v.Reason)
		}
		for _, x := range d.Errors {
			for k, v := range x.ErrorCode {
				out = append(out, k+"."+v)
			}
		}
	}
	return out
}

// newGoogleServer returns a server on clk with cfg.
func newGoogleServer(clk *clock, cfg emulator.AdsConfig) *emulator.Server {
	return emulator.New(emulator.Options{Now: clk.now, Ads: cfg})
}
