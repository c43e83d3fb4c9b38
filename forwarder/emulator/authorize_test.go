package emulator_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/emulator"
)

const testRedirect = "http://127.0.0.1:53682/callback"

// consent asks the consent screen for a code with PKCE challenge of
// verifier and the given scopes; it returns the redirect's query (nil
// when there was no redirect) and the answer.
func consent(t *testing.T, h http.Handler, verifier, scopes string, edit func(url.Values)) (url.Values, *httptest.ResponseRecorder) {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {"id"}, "redirect_uri": {testRedirect}, "response_type": {"code"},
		"scope": {scopes}, "state": {"st-1"}, "access_type": {"offline"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	if edit != nil {
		edit(q)
	}
	rec := serve(h, http.MethodGet, "/o/oauth2/auth?"+q.Encode(), "")
	if rec.Code != http.StatusFound {
		return nil, rec
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), testRedirect+"?") {
		t.Fatalf("redirect to %q, want %s?...", rec.Header().Get("Location"), testRedirect)
	}
	return loc.Query(), rec
}

// codeForm is the authorization_code grant of code.
func codeForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {testRedirect}, "client_id": {"id"}, "client_secret": {"cs"},
	}
}

// TestAuthorizationCodeFlow runs the installed-app flow: consent, code
// exchange with PKCE, then a refresh grant that gives the scopes
// consented to, and the API refusing a scope that was not.
func TestAuthorizationCodeFlow(t *testing.T) {
	const verifier = "a-verifier-of-at-least-forty-three-characters-long-0123"
	s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{ConsentScopes: []string{scopeDM}})
	h := s.Handler()
	back, rec := consent(t, h, verifier, scopeDM+" "+scopeAds, nil)
	if back == nil {
		t.Fatalf("consent: want a redirect, got %d %s", rec.Code, rec.Body)
	}
	if back.Get("state") != "st-1" || back.Get("code") == "" || back.Get("scope") != scopeDM {
		t.Fatalf("redirect query %v: want state st-1, a code and the data manager scope alone", back)
	}
	code := back.Get("code")
	rec = postForm(h, "/token", codeForm(code, verifier))
	if rec.Code != http.StatusOK {
		t.Fatalf("code exchange: want 200, got %d %s", rec.Code, rec.Body)
	}
	var tok struct {
		RefreshToken string `json:"refresh_token"`
		Scope        string `json:"scope"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.RefreshToken == "" || tok.Scope != scopeDM {
		t.Fatalf("code exchange answer %s: want a refresh token and the data manager scope (%v)", rec.Body, err)
	}
	if rec := postForm(h, "/token", codeForm(code, verifier)); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "invalid_grant") {
		t.Errorf("second exchange of one code: want 400 invalid_grant, got %d %s", rec.Code, rec.Body)
	}
	at := accessToken(t, h, tok.RefreshToken)
	if rec := callAPI(h, ingestPath, at, dmBody(dmEvent("tx1", ""))); rec.Code != http.StatusOK {
		t.Errorf("ingest with the consented scope: want 200, got %d %s", rec.Code, rec.Body)
	}
	rec = callAPI(h, clickPath, at, clickBody(clickRow("g1", "2026-11-03 08:00:00+00:00")))
	if got := reasons(t, rec); rec.Code != http.StatusForbidden || !strings.Contains(strings.Join(got, " "), "ACCESS_TOKEN_SCOPE_INSUFFICIENT") {
		t.Errorf("upload without the adwords scope: want 403 ACCESS_TOKEN_SCOPE_INSUFFICIENT, got %d %v", rec.Code, got)
	}
	other := refreshForm(tok.RefreshToken)
	other.Set("client_id", "another-client")
	if rec := postForm(h, "/token", other); rec.Code != http.StatusBadRequest {
		t.Errorf("refresh token of another client: want 400, got %d %s", rec.Code, rec.Body)
	}
}

// TestAuthorizationCodeRefusals checks what the consent screen and the
// code exchange refuse.
func TestAuthorizationCodeRefusals(t *testing.T) {
	const verifier = "a-verifier-of-at-least-forty-three-characters-long-0123"
	tests := []struct {
		name      string
		cfg       emulator.AdsConfig
		edit      func(url.Values) // of the consent request
		exchange  func(url.Values) // of the code exchange
		wantPage  int              // the consent screen's error page status; 0: a redirect
		wantError string           // the redirect's error, or the exchange's
	}{
		{name: "denied consent", cfg: emulator.AdsConfig{DenyConsent: true}, wantError: "access_denied"},
		{name: "redirect not on loopback", edit: func(q url.Values) { q.Set("redirect_uri", "https://example.com/cb") }, wantPage: 400},
		{name: "no client id", edit: func(q url.Values) { q.Del("client_id") }, wantPage: 400},
		{name: "unknown client", cfg: emulator.AdsConfig{OAuthClients: map[string]string{"other": "x"}}, wantPage: 400},
		{name: "no scope", edit: func(q url.Values) { q.Del("scope") }, wantPage: 400},
		{name: "wrong verifier", exchange: func(f url.Values) { f.Set("code_verifier", "another-verifier-of-at-least-forty-three-characters-x") }, wantError: "Invalid code verifier"},
		{name: "no verifier", exchange: func(f url.Values) { f.Del("code_verifier") }, wantError: "Missing code verifier"},
		{name: "another redirect uri", exchange: func(f url.Values) { f.Set("redirect_uri", "http://127.0.0.1:1/x") }, wantError: "redirect_uri_mismatch"},
		{name: "wrong client secret", cfg: emulator.AdsConfig{OAuthClients: map[string]string{"id": "right"}}, wantError: "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newGoogleServer(&clock{t: testNow}, tc.cfg).Handler()
			back, rec := consent(t, h, verifier, scopeDM, tc.edit)
			if tc.wantPage != 0 {
				if rec.Code != tc.wantPage {
					t.Fatalf("consent screen: want %d, got %d %s", tc.wantPage, rec.Code, rec.Body)
				}
				return
			}
			if back == nil {
				t.Fatalf("consent screen: want a redirect, got %d %s", rec.Code, rec.Body)
			}
			if back.Get("state") != "st-1" {
				t.Errorf("state %q, want st-1", back.Get("state"))
			}
			if e := back.Get("error"); e != "" || tc.wantError == "access_denied" {
				if e != tc.wantError || back.Get("code") != "" {
					t.Errorf("redirect %v: want error %q and no code", back, tc.wantError)
				}
				return
			}
			form := codeForm(back.Get("code"), verifier)
			if tc.exchange != nil {
				tc.exchange(form)
			}
			rec = postForm(h, "/token", form)
			if rec.Code == http.StatusOK || !strings.Contains(rec.Body.String(), tc.wantError) {
				t.Errorf("exchange: want a refusal with %q, got %d %s", tc.wantError, rec.Code, rec.Body)
			}
		})
	}
}
