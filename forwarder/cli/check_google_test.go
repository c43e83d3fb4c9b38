package cli

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/emulator"
)

// TestCheckGoogleAccess: check obtains an access token for each Google
// Ads destination of the rules, and fails naming the destination when
// Google refuses the refresh token.
func TestCheckGoogleAccess(t *testing.T) {
	clearEnv(t)
	emu := emulator.New(emulator.Options{})
	google := httptest.NewServer(emu.Handler())
	defer google.Close()
	creds := writeFile(t, "credentials.json", `{"webhook_tokens": ["0123456789abcdef0123"], "ga4_api_secrets": {"G-HARBOUR01": "api-secret"},
		"google": {"oauth_client": {"client_id": "id.apps.googleusercontent.com", "client_secret": "cs", "refresh_token": "rt-check"}}}`, 0o600)
	args := []string{"check", "--rules", exampleRules, "--credentials", creds, "--oauth-token-url", google.URL + "/token"}

	res := run(t, nil, args...)
	if res.code != 0 || !strings.Contains(res.stdout, `destination "google-ads": Google Ads customer 1234567890 through the Data Manager API: access token obtained`) {
		t.Fatalf("check = %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	emu.SetAdsConfig(emulator.AdsConfig{RevokedRefreshTokens: []string{"rt-check"}})
	res = run(t, nil, args...)
	if res.code != 1 || !strings.Contains(res.stdout, `destination "google-ads" (Data Manager API, customer 1234567890): no access token`) || !strings.Contains(res.stdout, "invalid_grant") {
		t.Fatalf("check with a revoked token = %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if strings.Contains(res.stdout+res.stderr, "rt-check") {
		t.Error("check printed the refresh token")
	}
}
