package app

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/httpapi"
)

// While webhooks are in progress, the delivery workers yield to them:
// the metrics show the webhooks in flight and the delayed claims, and the
// delivery is still made while intake stays busy (each yield is bounded).
func TestDeliveryYieldsToBusyIntake(t *testing.T) {
	const token = "yield-test-token-0123456789"
	cfg, emu := emulatedConfig(t, token)
	cfg.PollInterval = 10 * time.Millisecond
	cfg.Workers = 1
	a, stop := runApp(t, cfg)
	defer stop()

	form := func(sid string) string {
		return url.Values{
			"Action": {"Webhook"}, "Event": {"Call.Complete"}, "Account.Sid": {"AC1"}, "Property.Sid": {"PR1"},
			"Call.Sid": {sid}, "Call.StartDate": {time.Now().UTC().Add(-time.Minute).Format("2006-01-02 15:04:05")},
			"Call.Duration": {"75"}, "Call.Disposition": {"ANSWERED"},
			"Google.Analytics.ClientId": {"1987654321.1764119999"},
		}.Encode()
	}
	// Slow senders hold their turns: their bodies arrive only at the end.
	var slow []net.Conn
	var rests []string
	for i := range deliver.DefaultYieldAt {
		body := form(fmt.Sprintf("CAslow%d", i))
		c, err := net.Dial("tcp", a.Addr())
		noErr(t, err)
		defer c.Close()
		_, err = fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
			httpapi.WebhookPath, token, len(body), body[:10])
		noErr(t, err)
		slow, rests = append(slow, c), append(rests, body[10:])
	}
	waitUntil(t, "the slow webhooks in flight", func() bool {
		return metric(t, a, "callforward_webhooks_in_flight") == float64(deliver.DefaultYieldAt)
	})

	req, _ := http.NewRequest(http.MethodPost, "http://"+a.Addr()+httpapi.WebhookPath, strings.NewReader(form("CAbusy")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	noErr(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %d, want 200", res.StatusCode)
	}
	// Intake stays busy throughout: the delivery is made all the same.
	waitUntil(t, "the GA4 event sent while intake is busy", func() bool { return len(emu.GA4Events()) == 1 })
	if n := metric(t, a, "callforward_webhooks_in_flight"); n != float64(deliver.DefaultYieldAt) {
		t.Fatalf("webhooks in flight %v once the event was sent, want %d still", n, deliver.DefaultYieldAt)
	}
	if n := metric(t, a, "callforward_delivery_yields_total"); n < 1 {
		t.Errorf("callforward_delivery_yields_total = %v, want at least 1: the claimer did not yield to a busy intake", n)
	}

	for i, c := range slow {
		_, err := io.WriteString(c, rests[i])
		noErr(t, err)
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		noErr(t, err)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("slow webhook %d: %d, want 200", i, res.StatusCode)
		}
	}
	waitUntil(t, "no webhook in flight", func() bool { return metric(t, a, "callforward_webhooks_in_flight") == 0 })
}

// metric reads one unlabelled sample from the app's /metrics.
func metric(t *testing.T, a *App, name string) float64 {
	t.Helper()
	res, err := http.Get("http://" + a.Addr() + "/metrics")
	noErr(t, err)
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			noErr(t, err)
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// emulatedConfig returns the configuration of an app in a temporary
// directory whose rules send one GA4 event per call (rule every-call) to
// an emulator, which it starts, and whose credentials hold the webhook
// token and the stream's API secret.
func emulatedConfig(t *testing.T, token string) (Config, *emulator.Server) {
	t.Helper()
	emu := emulator.New(emulator.Options{Seed: 1})
	google := httptest.NewServer(emu.Handler())
	t.Cleanup(google.Close)
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials.json")
	noErr(t, os.WriteFile(creds, []byte(`{"webhook_tokens": ["`+token+`"], "ga4_api_secrets": {"G-APPTEST1": "s"}}`), 0o600))
	rules := filepath.Join(dir, "rules.yaml")
	writeRules(t, rules, rulesWith("every-call"))
	cfg := testConfig(dir, rules, creds)
	cfg.GA4Endpoint = google.URL
	return cfg, emu
}
