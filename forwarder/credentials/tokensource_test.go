package credentials_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/emulator"
	"golang.org/x/oauth2"
)

const (
	refreshToken = "1//the-refresh-token"
	clientSecret = "the-client-secret"
	saEmail      = "forwarder@project.iam.gserviceaccount.com"
)

func oauthClient() *credentials.Google {
	return &credentials.Google{OAuthClient: &credentials.OAuthClient{
		ClientID: "id.apps.googleusercontent.com", ClientSecret: clientSecret, RefreshToken: refreshToken,
	}}
}

// serviceAccountKey returns a service-account key JSON with a fresh RSA key.
func serviceAccountKey(t *testing.T, typ string) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type": typ, "client_email": saEmail, "private_key_id": "kid",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"token_uri":   "https://oauth2.googleapis.com/token",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func startEmulator(t *testing.T, cfg emulator.AdsConfig) (*emulator.Server, string) {
	t.Helper()
	emu := emulator.New(emulator.Options{Ads: cfg})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	return emu, srv.URL + "/token"
}

func TestTokenSourceRefreshToken(t *testing.T) {
	emu, tokenURL := startEmulator(t, emulator.AdsConfig{})
	ts, err := oauthClient().TokenSource(context.Background(), tokenURL, credentials.ScopeDataManager)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		tok, err := ts.Token()
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		if tok.AccessToken == "" || tok.TokenType != "Bearer" {
			t.Fatalf("token %+v", tok)
		}
	}
	if n := emu.TokensIssued(); n != 1 {
		t.Errorf("%d tokens issued for two calls, want 1 (cached)", n)
	}
	src, ok := ts.(*credentials.Source)
	if !ok {
		t.Fatalf("TokenSource returned %T, want *credentials.Source", ts)
	}
	src.Invalidate()
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	if n := emu.TokensIssued(); n != 2 {
		t.Errorf("%d tokens issued after Invalidate, want 2", n)
	}
}

func TestTokenSourceServiceAccount(t *testing.T) {
	key := serviceAccountKey(t, "service_account")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "sa.json")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	_, tokenURL := startEmulator(t, emulator.AdsConfig{})
	for name, g := range map[string]*credentials.Google{
		"inline": {ServiceAccountKey: key},
		"file":   {ServiceAccountKeyFile: keyFile},
	} {
		t.Run(name, func(t *testing.T) {
			ts, err := g.TokenSource(context.Background(), tokenURL, credentials.ScopeDataManager, credentials.ScopeAdWords)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ts.Token()
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if got, want := tok.Extra("scope"), credentials.ScopeDataManager+" "+credentials.ScopeAdWords; got != want {
				t.Errorf("granted scope %q, want %q (the scopes asked in the assertion)", got, want)
			}
		})
	}
	t.Run("Google's token endpoint", func(t *testing.T) {
		if _, err := (&credentials.Google{ServiceAccountKey: key}).TokenSource(context.Background(), "", credentials.ScopeAdWords); err != nil {
			t.Errorf("TokenSource: %v", err)
		}
	})
}

func TestTokenSourceRevoked(t *testing.T) {
	_, tokenURL := startEmulator(t, emulator.AdsConfig{RevokedRefreshTokens: []string{refreshToken, saEmail}})
	for name, g := range map[string]*credentials.Google{
		"refresh token":   oauthClient(),
		"service account": {ServiceAccountKey: serviceAccountKey(t, "service_account")},
	} {
		t.Run(name, func(t *testing.T) {
			ts, err := g.TokenSource(context.Background(), tokenURL, credentials.ScopeAdWords)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ts.Token()
			var te *credentials.TokenError
			if !errors.As(err, &te) || !te.Revoked() || te.Code != "invalid_grant" || te.Status != 400 {
				t.Fatalf("Token error = %#v, want a revoked *TokenError", err)
			}
			if !credentials.IsRevoked(err) {
				t.Error("IsRevoked = false")
			}
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Error("the *oauth2.RetrieveError is not in the chain")
			}
			for _, secret := range []string{refreshToken, clientSecret, "PRIVATE KEY"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error text %q holds a secret", err)
				}
			}
		})
	}
}

func TestTokenErrorFromRetrieveError(t *testing.T) {
	err := &oauth2.RetrieveError{ErrorCode: "invalid_grant", Body: []byte(`{"refresh_token":"` + refreshToken + `"}`)}
	if !credentials.IsRevoked(err) {
		t.Error("IsRevoked(bare RetrieveError invalid_grant) = false")
	}
	if credentials.IsRevoked(errors.New("invalid_grant")) {
		t.Error("IsRevoked(plain error) = true")
	}
	te, ok := credentials.AsTokenError(err)
	if !ok || strings.Contains(te.Error(), refreshToken) {
		t.Errorf("AsTokenError = %v, %v; want a TokenError without the body", te, ok)
	}
}

func TestTokenSourceErrors(t *testing.T) {
	tests := []struct {
		name string
		g    *credentials.Google
		want string
	}{
		{"no google settings", nil, "no google settings"},
		{"nothing configured", &credentials.Google{}, "give oauth_client or a service account key"},
		{"user credentials as a service account", &credentials.Google{ServiceAccountKey: serviceAccountKey(t, "authorized_user")}, "service account key"},
		{"missing key file", &credentials.Google{ServiceAccountKeyFile: filepath.Join(t.TempDir(), "none.json")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, url := range []string{"", "http://127.0.0.1:1/token"} {
				_, err := tt.g.TokenSource(context.Background(), url, credentials.ScopeAdWords)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("tokenURL %q: error %v, want it to contain %q", url, err, tt.want)
				}
			}
		})
	}
}
