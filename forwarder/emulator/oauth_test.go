package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// jwt builds an unsigned-looking JWT with claims.
func jwt(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

func TestTokenEndpoint(t *testing.T) {
	cfg := emulator.AdsConfig{
		RevokedRefreshTokens: []string{"revoked", "gone@example.iam.gserviceaccount.com"},
		RefreshTokenScopes:   map[string][]string{"ads-only": {scopeAds}},
	}
	tests := []struct {
		name      string
		form      url.Values
		wantCode  int
		wantError string
		wantScope string
	}{
		{"refresh token", refreshForm("rt"), http.StatusOK, "", scopeDM + " " + scopeAds},
		{"refresh token with its own scopes", refreshForm("ads-only"), http.StatusOK, "", scopeAds},
		{"revoked refresh token", refreshForm("revoked"), http.StatusBadRequest, "invalid_grant", ""},
		{"scope beyond the grant", func() url.Values {
			f := refreshForm("ads-only")
			f.Set("scope", scopeDM)
			return f
		}(), http.StatusBadRequest, "invalid_scope", ""},
		{"no client secret", url.Values{"grant_type": {"refresh_token"}, "client_id": {"id"}, "refresh_token": {"rt"}}, http.StatusBadRequest, "invalid_request", ""},
		{"service account", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"assertion": {jwt(`{"iss":"sa@example.iam.gserviceaccount.com","scope":"` + scopeDM + `","aud":"x","exp":1,"iat":0}`)}}, http.StatusOK, "", scopeDM},
		{"revoked service account", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"assertion": {jwt(`{"iss":"gone@example.iam.gserviceaccount.com","scope":"` + scopeDM + `"}`)}}, http.StatusBadRequest, "invalid_grant", ""},
		{"malformed assertion", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {"not.a-jwt"}}, http.StatusBadRequest, "invalid_grant", ""},
		{"assertion without scope", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
			"assertion": {jwt(`{"iss":"sa@example.iam.gserviceaccount.com"}`)}}, http.StatusBadRequest, "invalid_scope", ""},
		{"unknown grant", url.Values{"grant_type": {"password"}}, http.StatusBadRequest, "unsupported_grant_type", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGoogleServer(&clock{t: testNow}, cfg)
			rec := postForm(s.Handler(), "/token", tt.form)
			if rec.Code != tt.wantCode {
				t.Fatalf("want %d, got %d: %s", tt.wantCode, rec.Code, rec.Body)
			}
			var reply struct {
				Error       string `json:"error"`
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				Scope       string `json:"scope"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
				t.Fatalf("decode %s: %v", rec.Body, err)
			}
			if reply.Error != tt.wantError {
				t.Errorf("error = %q, want %q", reply.Error, tt.wantError)
			}
			if tt.wantError == "" {
				if reply.AccessToken == "" || reply.TokenType != "Bearer" || reply.ExpiresIn != 3600 || reply.Scope != tt.wantScope {
					t.Errorf("reply = %+v, want a Bearer token for 3600 s with scope %q", reply, tt.wantScope)
				}
				if got := s.TokensIssued(); got != 1 {
					t.Errorf("TokensIssued = %d, want 1", got)
				}
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	clk := &clock{t: testNow}
	s := newGoogleServer(clk, emulator.AdsConfig{
		TokenLifetimeSeconds: 60,
		RefreshTokenScopes:   map[string][]string{"ads-only": {scopeAds}},
	})
	h := s.Handler()
	good := accessToken(t, h, "rt")
	expiring := accessToken(t, h, "rt")
	clk.advance(61 * time.Second)
	fresh := accessToken(t, h, "rt")
	adsOnly := accessToken(t, h, "ads-only")

	tests := []struct {
		name       string
		token      string
		wantCode   int
		wantReason string
	}{
		{"no token", "", http.StatusUnauthorized, "CREDENTIALS_MISSING"},
		{"token not issued here", "ya29.other", http.StatusUnauthorized, "ACCESS_TOKEN_TYPE_UNSUPPORTED"},
		{"expired token", expiring, http.StatusUnauthorized, "ACCESS_TOKEN_EXPIRED"},
		{"expired first token", good, http.StatusUnauthorized, "ACCESS_TOKEN_EXPIRED"},
		{"adwords scope only", adsOnly, http.StatusForbidden, "ACCESS_TOKEN_SCOPE_INSUFFICIENT"},
		{"fresh token", fresh, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := callAPI(h, "/v1/events:ingest?alt=json&prettyPrint=false", tt.token, dmBody(dmEvent("T1", "")))
			if rec.Code != tt.wantCode {
				t.Fatalf("want %d, got %d: %s", tt.wantCode, rec.Code, rec.Body)
			}
			if tt.wantReason != "" {
				if got := reasons(t, rec); !slices.Contains(got, tt.wantReason) {
					t.Errorf("reasons = %v, want %s", got, tt.wantReason)
				}
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
			}
		})
	}

	t.Run("ExpireAccessTokens", func(t *testing.T) {
		s.ExpireAccessTokens()
		rec := callAPI(h, "/v1/events:ingest", fresh, dmBody(dmEvent("T2", "")))
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("want 401 after ExpireAccessTokens, got %d", rec.Code)
		}
	})
	t.Run("Ads API needs the adwords scope", func(t *testing.T) {
		dmOnly := newGoogleServer(clk, emulator.AdsConfig{RefreshTokenScopes: map[string][]string{"dm": {scopeDM}}})
		tok := accessToken(t, dmOnly.Handler(), "dm")
		rec := callAPI(dmOnly.Handler(), "/v26/customers/1234567890:uploadClickConversions", tok, clickBody(clickRow("G1", "2026-11-03 08:00:00+00:00")))
		if rec.Code != http.StatusForbidden {
			t.Fatalf("want 403, got %d: %s", rec.Code, rec.Body)
		}
	})
	if got := strings.Count(strings.Join(reasons(t, callAPI(h, "/v1/events:ingest", "", "{}")), " "), "UNAUTHENTICATED"); got != 1 {
		t.Errorf("a 401 answer should carry status UNAUTHENTICATED once, got %d", got)
	}
}
