package e2etest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// The Google side of the setup tests: customer 1234567890 reached through
// manager 1112223333, with one import action.
const (
	setupCustomer = "1234567890"
	setupManager  = "1112223333"
	setupAction   = "987654321"
	setupRefresh  = "e2e-setup-refresh-token"
	setupDevToken = "e2e-setup-developer-token"
	setupGA4      = "e2eSetupApiSecret0123"
)

func setupAccounts() emulator.AdsConfig {
	return emulator.AdsConfig{
		Customers: map[string]emulator.AdsCustomer{setupCustomer: {Managers: []string{setupManager}, ConversionActions: []emulator.ConversionAction{
			{ID: setupAction, Name: "Qualified call", Type: "UPLOAD_CLICKS", Status: "ENABLED"},
			{ID: "555", Name: "Website lead", Type: "WEBPAGE", Status: "ENABLED"},
		}}},
		DeveloperTokens: []string{setupDevToken},
	}
}

// writeSetup writes a rules file sending to GA4 and to Google Ads (through
// backend, with the given ids) and credentials with the given GA4 API
// secret and developer token ("" leaves them out).
func (e *env) writeSetup(t *testing.T, backend, customer, login, action, ga4Secret, devToken string) {
	t.Helper()
	loginKey := ""
	if login != "" {
		loginKey = ", login_customer_id: " + login
	}
	rules := "destinations:\n" +
		"  web: {type: ga4, measurement_id: " + measurementID + ", consent: {ad_user_data: granted}}\n" +
		"  ads: {type: google_ads, customer_id: " + customer + loginKey + ", backend: " + backend + "}\n" +
		"rules:\n  - name: qualified\n    send:\n" +
		"      - {to: web, event: qualified_call}\n" +
		"      - to: ads\n        conversion_action: \"" + action + "\"\n"
	must(t, os.WriteFile(filepath.Join(e.dir, "rules.yaml"), []byte(rules), 0o600))
	google := map[string]any{"oauth_client": map[string]string{
		"client_id": setupClientID, "client_secret": setupClientSecret, "refresh_token": setupRefresh,
	}}
	if devToken != "" {
		google["developer_token"] = devToken
	}
	creds := map[string]any{"webhook_tokens": []string{e.token}, "google": google}
	if ga4Secret != "" {
		creds["ga4_api_secrets"] = map[string]string{measurementID: ga4Secret}
	}
	data, _ := json.Marshal(creds)
	must(t, os.WriteFile(filepath.Join(e.dir, "credentials.json"), data, 0o600))
}

// checkOnline runs check --online (with extra flags) against the
// emulator; it returns stdout, stderr and whether the command succeeded.
func (e *env) checkOnline(t *testing.T, extra ...string) (string, string, bool) {
	t.Helper()
	args := append([]string{"check", "--online", "--rules", filepath.Join(e.dir, "rules.yaml"),
		"--credentials", filepath.Join(e.dir, "credentials.json"), "--ga4-endpoint", e.google.URL}, e.adsArgs()...)
	cmd := exec.Command(e.bin, append(args, extra...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, exit := err.(*exec.ExitError); err != nil && !exit {
		t.Fatalf("check --online: %v", err)
	}
	return stdout.String(), stderr.String(), err == nil
}

// TestCheckOnline runs check --online on the built binary against the
// emulator for a right setup and for each kind of mistake: each mistake
// fails with a line naming the file and key to fix, and no secret or token
// is printed.
func TestCheckOnline(t *testing.T) {
	t.Parallel()
	type setup struct{ backend, customer, login, action, ga4Secret, devToken string }
	right := setup{"data_manager", setupCustomer, setupManager, setupAction, setupGA4, ""}
	tests := []struct {
		name  string
		setup setup
		edit  func(c *emulator.AdsConfig)
		// want are texts of the fail or warn lines; none: every line ok.
		want []string
	}{
		{name: "right setup, data manager", setup: right},
		{name: "right setup, google ads api", setup: setup{"google_ads_api", setupCustomer, setupManager, setupAction, setupGA4, setupDevToken}},
		{name: "GA4 secret still the placeholder", setup: setup{"data_manager", setupCustomer, setupManager, setupAction, "replace-with-the-measurement-protocol-api-secret", ""},
			want: []string{`fail ga4 "web" G-E2ETEST1: API secret wrong: it is still a placeholder`, `fix: ` + "CREDS" + `: ga4_api_secrets["G-E2ETEST1"]`}},
		{name: "GA4 secret missing", setup: setup{"data_manager", setupCustomer, setupManager, setupAction, "", ""},
			want: []string{`no GA4 API secret for G-E2ETEST1`}},
		{name: "wrong customer", setup: setup{"data_manager", "2223334444", setupManager, setupAction, setupGA4, ""},
			want: []string{`fail google ads "ads" customer 2223334444`, "PERMISSION_DENIED", `fix: RULES: destination "ads": customer_id (2223334444)`}},
		{name: "wrong login customer", setup: setup{"google_ads_api", setupCustomer, "7778889999", setupAction, setupGA4, setupDevToken},
			want: []string{"USER_PERMISSION_DENIED", "login_customer_id the manager account"}},
		{name: "no login customer", setup: setup{"data_manager", setupCustomer, "", setupAction, setupGA4, ""},
			want: []string{"PERMISSION_DENIED", "login_customer_id"}},
		{name: "wrong conversion action", setup: setup{"data_manager", setupCustomer, setupManager, "111", setupGA4, ""},
			want: []string{"INVALID_CONVERSION_ACTION_ID", "fix: RULES:9:28: conversion_action 111", "forwarder google conversion-actions --customer-id " + setupCustomer}},
		{name: "not an import action", setup: setup{"google_ads_api", setupCustomer, setupManager, "555", setupGA4, setupDevToken},
			want: []string{"INVALID_CONVERSION_ACTION_TYPE", "is not an import action"}},
		{name: "missing scope", setup: right,
			edit: func(c *emulator.AdsConfig) {
				c.RefreshTokenScopes = map[string][]string{setupRefresh: {"https://www.googleapis.com/auth/adwords"}}
			},
			want: []string{"ACCESS_TOKEN_SCOPE_INSUFFICIENT", "fix: CREDS: google.oauth_client.refresh_token was granted without the Data Manager API scope"}},
		{name: "missing developer token", setup: setup{"google_ads_api", setupCustomer, setupManager, setupAction, setupGA4, ""},
			want: []string{"warn google ads api developer token: missing", "DEVELOPER_TOKEN_PARAMETER_MISSING", "fix: CREDS: google.developer_token"}},
		{name: "revoked refresh token", setup: right,
			edit: func(c *emulator.AdsConfig) { c.RevokedRefreshTokens = []string{setupRefresh} },
			want: []string{"fail google access token for the Data Manager API", "run forwarder google authorize again"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cfg := setupAccounts()
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			e.emu.SetAdsConfig(cfg)
			s := tc.setup
			e.writeSetup(t, s.backend, s.customer, s.login, s.action, s.ga4Secret, s.devToken)
			stdout, stderr, ok := e.checkOnline(t)
			out := stdout + stderr
			rulesPath, credsPath := filepath.Join(e.dir, "rules.yaml"), filepath.Join(e.dir, "credentials.json")
			if len(tc.want) == 0 {
				if !ok || strings.Contains(out, "fail ") || strings.Contains(out, "warn ") {
					t.Fatalf("want every check ok and exit 0, got ok=%v:\n%s", ok, out)
				}
				if n := strings.Count(stdout, "\nok "); n < 3 {
					t.Errorf("want an ok line for the GA4 stream, the access token and the conversion action, got:\n%s", out)
				}
			} else {
				if ok {
					t.Errorf("want exit 1, got 0:\n%s", out)
				}
				for _, w := range tc.want {
					w = strings.NewReplacer("RULES", rulesPath, "CREDS", credsPath).Replace(w)
					if !strings.Contains(out, w) {
						t.Errorf("the output lacks %q:\n%s", w, out)
					}
				}
			}
			for _, secret := range []string{setupRefresh, setupClientSecret, setupDevToken, setupGA4, e.token, "ya29."} {
				if strings.Contains(out, secret) {
					t.Errorf("the output shows a secret or token (%q):\n%s", secret, out)
				}
			}
			if rec := e.emu.Recording(); len(rec.DataManagerEvents)+len(rec.ClickConversions) > 0 || len(e.emu.GA4Events()) > 0 {
				t.Errorf("check --online recorded something at Google: %+v", rec)
			}
		})
	}
}

// TestCheckOnlineJSON checks the --json form: stdout is one JSON array of
// checks, a failure among them.
func TestCheckOnlineJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.emu.SetAdsConfig(setupAccounts())
	e.writeSetup(t, "data_manager", setupCustomer, setupManager, "111", setupGA4, "")
	stdout, stderr, ok := e.checkOnline(t, "--json")
	if ok {
		t.Errorf("want exit 1 for a wrong conversion action")
	}
	var rs []struct{ Check, Status, Message, Fix string }
	if err := json.Unmarshal([]byte(stdout), &rs); err != nil {
		t.Fatalf("stdout is not a JSON array of checks: %v\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	statuses := map[string]int{}
	for _, r := range rs {
		statuses[r.Status]++
		if r.Status == "fail" && !strings.Contains(r.Fix, "conversion_action 111") {
			t.Errorf("fail without the key to fix: %+v", r)
		}
	}
	if statuses["fail"] != 1 || statuses["ok"] < 2 {
		t.Errorf("statuses %v, want 1 fail and the others ok", statuses)
	}
}

// TestServeLogsSetupChecks checks that serve logs the checks at start, a
// failing one included, and keeps running.
func TestServeLogsSetupChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.emu.SetAdsConfig(setupAccounts())
	e.writeSetup(t, "data_manager", "2223334444", setupManager, setupAction, setupGA4, "")
	logs := &Logs{}
	f := e.start(t, logs, e.adsArgs()...)
	Eventually(t, 20*time.Second, "the setup checks logged", func() bool {
		return strings.Contains(logs.String(), `customer_id (2223334444)`)
	})
	for _, want := range []string{`"msg":"setup check"`, `"status":"fail"`, `"status":"ok"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{setupRefresh, setupClientSecret, setupGA4, e.token, "ya29."} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs show a secret or token (%q)", secret)
		}
	}
	resp, err := http.Get(f.URL() + "/healthz")
	if err != nil {
		t.Fatalf("serve stopped after a failed check: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz answered %d after a failed check, want 200", resp.StatusCode)
	}
}
