package credentials_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/emulator"
)

// refreshLog keeps what a Source's OnRefresh reports.
type refreshLog struct {
	mu   sync.Mutex
	seen []credentials.Refresh
}

func (l *refreshLog) add(r credentials.Refresh) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, r)
}

func (l *refreshLog) all() []credentials.Refresh {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]credentials.Refresh(nil), l.seen...)
}

// observed returns the source of g for both scopes, reporting to a log.
func observed(t *testing.T, g *credentials.Google, tokenURL string) (*credentials.Source, *refreshLog) {
	t.Helper()
	ts, err := g.TokenSource(context.Background(), tokenURL, credentials.ScopeDataManager, credentials.ScopeAdWords)
	if err != nil {
		t.Fatal(err)
	}
	src, ok := ts.(*credentials.Source)
	if !ok {
		t.Fatalf("TokenSource returned %T, want *credentials.Source", ts)
	}
	log := &refreshLog{}
	src.OnRefresh(log.add)
	return src, log
}

// credentialKinds are the credentials a Source fetches tokens with.
func credentialKinds(t *testing.T) []struct {
	kind string
	g    *credentials.Google
} {
	return []struct {
		kind string
		g    *credentials.Google
	}{
		{credentials.KindAuthorizedUser, oauthClient()},
		{credentials.KindServiceAccount, &credentials.Google{ServiceAccountKey: serviceAccountKey(t, "service_account")}},
	}
}

// TestOnRefreshReportsEachFetch: OnRefresh hears of every request to the
// token endpoint (the first one, one after Invalidate, one when the token
// expired) and of none of the calls served from the cache.
func TestOnRefreshReportsEachFetch(t *testing.T) {
	for _, tt := range credentialKinds(t) {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			// Tokens live 11 s, so they count as expired after 1 s (the
			// library renews 10 s early).
			emu, tokenURL := startEmulator(t, emulator.AdsConfig{TokenLifetimeSeconds: 11})
			src, log := observed(t, tt.g, tokenURL)
			tokens := func(n int) {
				t.Helper()
				for range n {
					if _, err := src.Token(); err != nil {
						t.Fatalf("Token: %v", err)
					}
				}
			}
			tokens(3)
			src.Invalidate()
			tokens(2)
			time.Sleep(1100 * time.Millisecond)
			tokens(2)

			got := log.all()
			if len(got) != 3 || emu.TokensIssued() != 3 {
				t.Fatalf("%d refreshes reported, %d tokens issued; want 3 each: %+v", len(got), emu.TokensIssued(), got)
			}
			for _, r := range got {
				if r.Kind != tt.kind || r.Scope != "datamanager+adwords" || r.Err != nil {
					t.Errorf("refresh %+v, want kind %s, scope datamanager+adwords, no error", r, tt.kind)
				}
			}
		})
	}
}

// TestOnRefreshReportsFailures: a refused fetch is reported with its
// error, once per request to the token endpoint, and the
// report holds no secret.
func TestOnRefreshReportsFailures(t *testing.T) {
	_, tokenURL := startEmulator(t, emulator.AdsConfig{RevokedRefreshTokens: []string{refreshToken, saEmail}})
	for _, tt := range credentialKinds(t) {
		t.Run(tt.kind, func(t *testing.T) {
			src, log := observed(t, tt.g, tokenURL)
			for range 2 {
				if _, err := src.Token(); err == nil {
					t.Fatal("Token with revoked credentials succeeded")
				}
			}
			got := log.all()
			if len(got) != 2 {
				t.Fatalf("%d refreshes reported, want 2 (each failed call asks again): %+v", len(got), got)
			}
			for _, r := range got {
				if r.Kind != tt.kind || !credentials.IsRevoked(r.Err) {
					t.Errorf("refresh %+v, want kind %s and a revoked error", r, tt.kind)
				}
				text := fmt.Sprintf("%+v %v", r, r.Err)
				for _, secret := range []string{refreshToken, clientSecret, saEmail, "PRIVATE KEY"} {
					if strings.Contains(text, secret) {
						t.Errorf("refresh report %q holds %q", text, secret)
					}
				}
			}
		})
	}
}
