package e2etest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/examples"
	"github.com/callforward/callforward/forwarder/emulator"
)

const refreshToken = "e2e-refresh-token"

// useExampleRules puts examples/rules.yaml in force (backend rewritten
// when given) with credentials for its GA4 stream and Google OAuth.
func (e *env) useExampleRules(t *testing.T, backend string) {
	t.Helper()
	rules, err := examples.FS.ReadFile("rules.yaml")
	must(t, err)
	if backend != "" {
		rules = []byte(strings.Replace(string(rules), "backend: data_manager", "backend: "+backend, 1))
	}
	must(t, os.WriteFile(filepath.Join(e.dir, "rules.yaml"), rules, 0o600))
	creds, _ := json.Marshal(map[string]any{
		"webhook_tokens":  []string{e.token},
		"ga4_api_secrets": map[string]string{"G-HARBOUR01": "e2e-secret"},
		"google": map[string]any{"oauth_client": map[string]string{
			"client_id": "e2e.apps.googleusercontent.com", "client_secret": "e2e-client-secret", "refresh_token": refreshToken,
		}},
	})
	must(t, os.WriteFile(filepath.Join(e.dir, "credentials.json"), creds, 0o600))
}

// adsArgs points the Google Ads side at the emulator.
func (e *env) adsArgs() []string {
	return []string{
		"--datamanager-endpoint", e.google.URL, "--googleads-endpoint", e.google.URL,
		"--oauth-token-url", e.google.URL + "/token",
	}
}

func (e *env) postSample(t *testing.T, f *Forwarder, name string, set map[string]string) map[string]any {
	t.Helper()
	body, err := examples.FS.ReadFile("webhooks/" + name)
	must(t, err)
	if set == nil {
		set = map[string]string{}
	}
	if _, ok := set["Call.StartDate"]; !ok {
		set["Call.StartDate"] = examples.StartDate(time.Now().Add(-10 * time.Minute))
	}
	body, err = examples.Set(name, body, set)
	must(t, err)
	req, err := examples.NewRequest(t.Context(), f.URL()+"/webhooks/fonedynamics", e.token, name, body)
	must(t, err)
	code, reply, err := Post(t.Context(), req)
	if err != nil || code != http.StatusOK {
		t.Fatalf("%s: %d %v %v", name, code, reply, err)
	}
	return reply
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestAdsSampleCall: the sample answered call with a GCLID, under the
// example rules, reaches Google Ads as exactly one valid conversion,
// through the Data Manager API and, with backend google_ads_api, through
// the Google Ads API.
func TestAdsSampleCall(t *testing.T) {
	for _, backend := range []string{"data_manager", "google_ads_api"} {
		t.Run(backend, func(t *testing.T) {
			e := newEnv(t)
			e.useExampleRules(t, backend)
			logs := &Logs{}
			f := e.start(t, logs, e.adsArgs()...)
			start := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
			e.postSample(t, f, "answered-with-gclid.form", map[string]string{"Call.StartDate": examples.StartDate(start)})
			e.postSample(t, f, "answered-with-gclid.form", nil) // the platform re-sends: duplicate

			const gclid = "Cj0KCQiA4L67BhDUARIsADWrl7Gx1bX8kqZ3vM0wYtN5cQe9sRr2hLpD4fE_aBcD"
			phone := sha256Hex("+61412345678")
			var got []map[string]any
			Eventually(t, 10*time.Second, "the conversion arrives", func() bool {
				got = nil
				if backend == "data_manager" {
					for _, c := range e.emu.DataManagerEvents() {
						got = append(got, map[string]any{"customer": c.CustomerID, "action": c.ConversionAction, "gclid": c.GCLID,
							"time": c.EventTimestamp, "value": *c.Value, "currency": c.Currency, "txn": c.TransactionID, "phones": c.HashedPhones, "consent": c.AdUserData})
					}
				} else {
					for _, c := range e.emu.AdsClickConversions() {
						got = append(got, map[string]any{"customer": c.CustomerID, "action": c.ConversionAction, "gclid": c.GCLID,
							"time": c.ConversionDateTime, "value": *c.Value, "currency": c.Currency, "txn": c.OrderID, "phones": c.HashedPhones, "consent": c.AdUserData})
					}
				}
				return len(got) > 0
			})
			time.Sleep(1500 * time.Millisecond) // a second conversion would show by now (batch window 1s)
			if n := len(e.emu.DataManagerEvents()) + len(e.emu.AdsClickConversions()); n != 1 {
				t.Fatalf("%d conversions recorded, want exactly 1", n)
			}
			c := got[0]
			wantTime := start.Format(time.RFC3339)
			if backend == "google_ads_api" {
				wantTime = start.Format("2006-01-02 15:04:05-07:00")
			}
			want := map[string]any{"customer": "1234567890", "action": "987654321", "gclid": gclid, "time": wantTime,
				"value": 50.0, "currency": "AUD", "consent": map[string]string{"data_manager": "CONSENT_GRANTED", "google_ads_api": "GRANTED"}[backend]}
			for k, v := range want {
				if fmt.Sprint(c[k]) != fmt.Sprint(v) {
					t.Errorf("%s = %v, want %v", k, c[k], v)
				}
			}
			if phones, _ := c["phones"].([]string); len(phones) != 1 || phones[0] != phone {
				t.Errorf("hashed phones %v, want [sha256(+61412345678)] = [%s]", c["phones"], phone)
			}
			if txn, _ := c["txn"].(string); len(txn) < 16 || strings.Contains(txn, "CA0e8f") {
				t.Errorf("transaction id %q: want a stable id that is not the raw Call.Sid", txn)
			}
			if n, ok := Contains(logs.String(), gclid, "+61412345678", phone, "e2e-client-secret", refreshToken); ok {
				t.Errorf("logs contain %q", n)
			}
		})
	}
}

// TestAdsBatching: 5,000 qualifying calls under load go out to Google Ads
// in batches (requests ≤ calls/100), each conversion exactly once.
func TestAdsBatching(t *testing.T) {
	e := newEnv(t)
	e.useExampleRules(t, "")
	f := e.start(t, nil, append(e.adsArgs(), "--workers", "8")...)
	const calls = 5000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	sids := map[string]bool{}
	for i := range calls {
		sid := fmt.Sprintf("CAbatch%06d", i)
		sids[sid] = true
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			e.postSample(t, f, "answered-with-gclid.form", map[string]string{
				"Call.Sid": sid, "Google.AdWords.ClickId": "gclid-" + sid,
			})
		})
	}
	wg.Wait()
	Eventually(t, 60*time.Second, "every conversion arrives", func() bool { return len(e.emu.DataManagerEvents()) >= calls })
	time.Sleep(1500 * time.Millisecond)
	seen := map[string]int{}
	for _, c := range e.emu.DataManagerEvents() {
		seen[c.GCLID]++
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	requests := e.emu.Requests(emulator.EndpointIngestEvents)
	t.Logf("%d calls → %d conversions in %d Data Manager requests (%d duplicates at Google: %d)", calls, len(seen), requests, dups, e.emu.DataManagerDuplicates())
	if len(seen) != calls || dups > 0 || e.emu.DataManagerDuplicates() > 0 {
		t.Errorf("%d distinct conversions, %d repeated, want %d each once", len(seen), dups, calls)
	}
	if requests > calls/100 {
		t.Errorf("%d requests for %d conversions, want at most %d", requests, calls, calls/100)
	}
}

// TestAdsErrors: with the Google Ads API, a conversion Google refuses is
// dead-lettered with Google's code while the others of its batch arrive;
// a "too recent" one waits to be retried later; a revoked refresh token
// makes deliveries wait and /readyz say why.
func TestAdsErrors(t *testing.T) {
	e := newEnv(t)
	e.useExampleRules(t, "google_ads_api")
	e.emu.SetAdsConfig(emulator.AdsConfig{ExpiredGCLIDs: []string{"gclid-expired"}, TooRecentGCLIDs: []string{"gclid-recent"}})
	logs := &Logs{}
	f := e.start(t, logs, e.adsArgs()...)
	for i, g := range []string{"gclid-ok-1", "gclid-expired", "gclid-ok-2", "gclid-recent"} {
		e.postSample(t, f, "answered-with-gclid.form", map[string]string{"Call.Sid": fmt.Sprintf("CAerr%d", i), "Google.AdWords.ClickId": g})
	}
	Eventually(t, 10*time.Second, "valid conversions arrive, the expired one is dead-lettered, the recent one waits", func() bool {
		l := logs.String()
		return len(e.emu.AdsClickConversions()) == 2 && strings.Contains(l, "EXPIRED_EVENT") && strings.Contains(l, "TOO_RECENT_EVENT")
	})
	for _, c := range e.emu.AdsClickConversions() {
		if !strings.HasPrefix(c.GCLID, "gclid-ok") {
			t.Errorf("Google recorded %s", c.GCLID)
		}
	}
	_, err := f.Stop()
	must(t, err)
	list := Run(t, e.bin, "deadletter", "list", "--data-dir", filepath.Join(e.dir, "data"))
	if !strings.Contains(list, "CAerr1/qualified-call-to-ads/google-ads") || !strings.Contains(list, "EXPIRED_EVENT") || !strings.Contains(list, "1 dead letter(s)") {
		t.Errorf("deadletter list:\n%s", list)
	}

	// Revoked refresh token: nothing is lost, deliveries wait, /readyz says why.
	e.emu.SetAdsConfig(emulator.AdsConfig{RevokedRefreshTokens: []string{refreshToken}})
	f = e.start(t, logs, e.adsArgs()...)
	e.postSample(t, f, "answered-with-gclid.form", map[string]string{"Call.Sid": "CArevoked", "Google.AdWords.ClickId": "gclid-ok-3"})
	Eventually(t, 10*time.Second, "readyz reports the refused token", func() bool {
		res, err := http.Get(f.URL() + "/readyz")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var body struct {
			Status   string            `json:"status"`
			Problems map[string]string `json:"problems"`
		}
		json.NewDecoder(res.Body).Decode(&body)
		return res.StatusCode == 200 && body.Status == "degraded" && strings.Contains(body.Problems["google_ads"], "refresh token")
	})
	Eventually(t, 10*time.Second, "the delivery waits", func() bool { return strings.Contains(logs.String(), "oauth_invalid_grant") })
	if n, ok := Contains(logs.String(), refreshToken, "e2e-client-secret"); ok {
		t.Errorf("logs contain %q", n)
	}
	e.emu.SetAdsConfig(emulator.AdsConfig{})
	Eventually(t, 20*time.Second, "the waiting delivery arrives once the token works", func() bool {
		for _, c := range e.emu.AdsClickConversions() {
			if c.GCLID == "gclid-ok-3" {
				return true
			}
		}
		return false
	})
}
