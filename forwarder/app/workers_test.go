package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/logtest"

	"github.com/callforward/callforward/forwarder/httpapi"
)

// An instance started with no workers accepts webhooks and delivers
// nothing: the deliveries wait in the store, and an instance with workers
// on the same store sends them.
func TestIntakeOnlyInstance(t *testing.T) {
	const token = "intake-only-token-0123456789"
	cfg, emu := emulatedConfig(t, token)
	logs := &logtest.Buffer{}
	cfg.PollInterval = 10 * time.Millisecond
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))

	run := func(workers int, body func(a *App)) {
		t.Helper()
		c := cfg
		c.Workers = workers
		a, stop := runApp(t, c)
		body(a)
		stop()
	}

	run(0, func(a *App) {
		form := url.Values{
			"Action": {"Webhook"}, "Event": {"Call.Complete"}, "Account.Sid": {"AC1"}, "Property.Sid": {"PR1"},
			"Call.Sid": {"CAintake1"}, "Call.StartDate": {time.Now().UTC().Add(-time.Minute).Format("2006-01-02 15:04:05")},
			"Call.Duration": {"75"}, "Call.Disposition": {"ANSWERED"},
			"Google.Analytics.ClientId": {"1987654321.1764119999"},
		}
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.Addr()+httpapi.WebhookPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		noErr(t, err)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("webhook: %d, want 200", res.StatusCode)
		}
		// Thirty poll intervals: a worker would have sent by now.
		time.Sleep(300 * time.Millisecond)
		if n := len(emu.GA4Events()); n != 0 {
			t.Errorf("intake-only instance sent %d GA4 events, want none", n)
		}
		st, err := a.Stats(context.Background())
		noErr(t, err)
		if st.Pending != 1 {
			t.Errorf("pending deliveries %d, want 1", st.Pending)
		}
	})
	if !strings.Contains(logs.String(), "delivery is off") {
		t.Errorf("no warning that delivery is off in the log:\n%s", logs.String())
	}

	run(2, func(a *App) {
		waitUntil(t, "the GA4 event sent", func() bool { return len(emu.GA4Events()) == 1 })
	})
}

func TestWorkersNegativeRefused(t *testing.T) {
	cfg := Defaults()
	cfg.RulesPath = "rules.yaml"
	cfg.NoAuth = true
	cfg.Workers = -1
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "workers: -1") {
		t.Fatalf("Validate with workers -1 = %v, want an error naming workers", err)
	}
}
