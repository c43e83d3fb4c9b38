package e2etest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

const (
	setupClientID     = "e2e-setup.apps.googleusercontent.com"
	setupClientSecret = "e2e-setup-client-secret"
)

// writeClientFile writes a client secret file as the Google Cloud console
// downloads it, its endpoints pointed at the emulator.
func (e *env) writeClientFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(e.dir, "client_secret.json")
	data, _ := json.Marshal(map[string]any{"installed": map[string]any{
		"client_id": setupClientID, "client_secret": setupClientSecret,
		"auth_uri": e.google.URL + "/o/oauth2/auth", "token_uri": e.google.URL + "/token",
		"redirect_uris": []string{"http://localhost"},
	}})
	must(t, os.WriteFile(path, data, 0o600))
	return path
}

// freePort returns a loopback port nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// authorize runs `forwarder google authorize` and plays the browser: it
// reads the consent address from the output, follows it to Google (the
// emulator) and Google's redirect to the forwarder, changing the
// redirect's query with edit first. It returns the command's whole output
// and its error.
func (e *env) authorize(t *testing.T, edit func(url.Values), args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, append([]string{"google", "authorize", "--no-browser",
		"--client-secret-file", e.writeClientFile(t), "--credentials", filepath.Join(e.dir, "credentials.json"),
		"--listen-port", strconv.Itoa(freePort(t))}, args...)...)
	var out Logs
	pr, pw := io.Pipe()
	cmd.Stdout = io.MultiWriter(&out, pw)
	cmd.Stderr = &out
	must(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); _ = pw.Close() }()
	sc := bufio.NewScanner(pr)
	consentURL := ""
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.HasPrefix(line, e.google.URL) {
			consentURL = line
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if consentURL == "" {
		return out.String(), <-done
	}
	browser := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if edit != nil && req.URL.Hostname() == "127.0.0.1" {
			q := req.URL.Query()
			edit(q)
			req.URL.RawQuery = q.Encode()
		}
		return nil
	}}
	resp, err := browser.Get(consentURL)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	err = <-done
	return out.String(), err
}

// TestGoogleAuthorize runs the installed-app flow on the built binary
// against the emulator: the refresh token written works, the file keeps
// its other keys and mode 0600, and nothing secret is printed; a wrong
// state and a denied consent are refused and leave the file as it was.
func TestGoogleAuthorize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     emulator.AdsConfig
		edit    func(url.Values)
		wantErr string
	}{
		{name: "consent given"},
		{name: "wrong state", edit: func(q url.Values) { q.Set("state", "forged-state") }, wantErr: "state does not match"},
		{name: "consent denied", cfg: emulator.AdsConfig{DenyConsent: true}, wantErr: "click Allow"},
		{name: "wrong client secret", cfg: emulator.AdsConfig{OAuthClients: map[string]string{setupClientID: "another-secret"}}, wantErr: "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.emu.SetAdsConfig(tc.cfg)
			credsPath := filepath.Join(e.dir, "credentials.json")
			before, err := os.ReadFile(credsPath)
			must(t, err)
			out, err := e.authorize(t, tc.edit)
			after, rerr := os.ReadFile(credsPath)
			must(t, rerr)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(out, tc.wantErr) {
					t.Fatalf("want a failure saying %q, got %v:\n%s", tc.wantErr, err, out)
				}
				if !bytes.Equal(before, after) {
					t.Errorf("credentials.json changed after a failed authorization")
				}
				return
			}
			if err != nil {
				t.Fatalf("authorize: %v\n%s", err, out)
			}
			st, err := os.Stat(credsPath)
			must(t, err)
			if st.Mode().Perm() != 0o600 {
				t.Errorf("credentials.json mode %04o, want 0600", st.Mode().Perm())
			}
			var doc struct {
				WebhookTokens []string          `json:"webhook_tokens"`
				GA4           map[string]string `json:"ga4_api_secrets"`
				Google        struct {
					OAuthClient map[string]string `json:"oauth_client"`
				} `json:"google"`
			}
			must(t, json.Unmarshal(after, &doc))
			if len(doc.WebhookTokens) != 1 || doc.WebhookTokens[0] != e.token || doc.GA4[measurementID] != "e2e-secret" {
				t.Errorf("other keys not kept: %s", after)
			}
			c := doc.Google.OAuthClient
			if c["client_id"] != setupClientID || c["client_secret"] != setupClientSecret || c["refresh_token"] == "" {
				t.Fatalf("oauth_client %v: want the client and a refresh token", c)
			}
			form := url.Values{"grant_type": {"refresh_token"}, "client_id": {c["client_id"]}, "client_secret": {c["client_secret"]}, "refresh_token": {c["refresh_token"]}}
			resp, err := http.PostForm(e.google.URL+"/token", form)
			must(t, err)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the refresh token written does not work: token endpoint answered %d", resp.StatusCode)
			}
			for _, secret := range []string{c["refresh_token"], setupClientSecret, "e2e-secret", e.token} {
				if strings.Contains(out, secret) {
					t.Errorf("the output shows a secret:\n%s", out)
				}
			}
		})
	}
}

// TestGoogleConversionActions lists an account's import actions through
// the Google Ads API on the built binary, as lines for the rules file;
// without a developer token it says where the interface shows the ids.
func TestGoogleConversionActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, login, devToken string
		wantOK                bool
		want, notWant         []string
	}{
		{name: "listed", login: "111-222-3333", devToken: setupDevToken, wantOK: true,
			want:    []string{`conversion_action: "987654321"  # Qualified call, UPLOAD_CLICKS, ENABLED`},
			notWant: []string{`"555"`}},
		{name: "no developer token", devToken: "", wantOK: true, want: []string{"ctId=", "google.developer_token"}},
		{name: "wrong login customer", login: "7778889999", devToken: setupDevToken,
			want: []string{"USER_PERMISSION_DENIED", "--login-customer-id"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.emu.SetAdsConfig(setupAccounts())
			e.writeSetup(t, "google_ads_api", setupCustomer, setupManager, setupAction, setupGA4, tc.devToken)
			args := []string{"google", "conversion-actions", "--customer-id", "123-456-7890",
				"--credentials", filepath.Join(e.dir, "credentials.json"),
				"--googleads-endpoint", e.google.URL, "--oauth-token-url", e.google.URL + "/token"}
			if tc.login != "" {
				args = append(args, "--login-customer-id", tc.login)
			}
			out, err := exec.Command(e.bin, args...).CombinedOutput()
			if (err == nil) != tc.wantOK {
				t.Fatalf("exit error %v, want success %v:\n%s", err, tc.wantOK, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("the output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range append(tc.notWant, setupRefresh, setupClientSecret, setupDevToken, "ya29.") {
				if strings.Contains(string(out), w) {
					t.Errorf("the output shows %q:\n%s", w, out)
				}
			}
		})
	}
}
