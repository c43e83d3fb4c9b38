package googleauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

const (
	scopeDM  = "https://www.googleapis.com/auth/datamanager"
	scopeAds = "https://www.googleapis.com/auth/adwords"
)

// browser is a scripted browser: it follows the consent URL and Google's
// redirect, after edit changes the redirect's query.
func browser(t *testing.T, edit func(url.Values)) func(string) error {
	return func(consentURL string) error {
		client := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if edit != nil && req.URL.Hostname() == "127.0.0.1" && strings.Contains(req.URL.RawQuery, "state=") {
				q := req.URL.Query()
				edit(q)
				req.URL.RawQuery = q.Encode()
			}
			return nil
		}}
		go func() {
			resp, err := client.Get(consentURL)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}()
		return nil
	}
}

func TestFlow(t *testing.T) {
	tests := []struct {
		name        string
		cfg         emulator.AdsConfig
		edit        func(url.Values)
		wantErr     error
		wantMissing []string
	}{
		{name: "consent given"},
		{name: "one scope unticked", cfg: emulator.AdsConfig{ConsentScopes: []string{scopeDM}}, wantMissing: []string{scopeAds}},
		{name: "consent denied", cfg: emulator.AdsConfig{DenyConsent: true}, wantErr: ErrDenied},
		{name: "wrong state", edit: func(q url.Values) { q.Set("state", "forged") }, wantErr: ErrState},
		{name: "no state", edit: func(q url.Values) { q.Del("state") }, wantErr: ErrState},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			em := emulator.New(emulator.Options{Ads: tc.cfg})
			srv := httptest.NewServer(em.Handler())
			defer srv.Close()
			var prompt strings.Builder
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := Flow{
				ClientID: "id.apps.googleusercontent.com", ClientSecret: "client-secret-xyz",
				AuthURL: srv.URL + "/o/oauth2/auth", TokenURL: srv.URL + "/token",
				Scopes: []string{scopeDM, scopeAds}, Prompt: &prompt, OpenBrowser: browser(t, tc.edit),
			}.Run(ctx)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.RefreshToken == "" {
				t.Fatal("no refresh token")
			}
			if !slices.Equal(res.MissingScopes, tc.wantMissing) {
				t.Errorf("missing scopes %v, want %v", res.MissingScopes, tc.wantMissing)
			}
			for _, secret := range []string{res.RefreshToken, "client-secret-xyz"} {
				if strings.Contains(prompt.String(), secret) {
					t.Errorf("the prompt shows a secret: %s", prompt.String())
				}
			}
			if !strings.Contains(prompt.String(), "code_challenge_method=S256") || !strings.Contains(prompt.String(), "access_type=offline") {
				t.Errorf("the consent URL lacks PKCE or offline access: %s", prompt.String())
			}
		})
	}
}
