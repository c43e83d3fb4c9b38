package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/callforward/callforward/examples"
	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/app"
	"github.com/callforward/callforward/forwarder/callview"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

// The demo's processing: Google takes demoProcessing to process a
// conversion, and rejects clicks starting with demoExpiredGCLID as
// expired; demoExpiredSid is the call with such a click.
const (
	demoProcessing   = 1500 * time.Millisecond
	demoExpiredGCLID = "Cj0KCQexpired"
	demoExpiredSid   = "CA7d1e0c5b4a39281706f5e4d3c2b1a0ff"
)

// demo runs the real forwarder (embedded store in a temporary directory)
// against the in-process emulator, sends the sample webhooks, waits until
// every delivery is settled and prints what Google received. The console
// runs too, with an admin token made for the demo; with --serve everything
// keeps running until the context ends (Ctrl-C), for a look around.
func demo(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("demo", io)
	keep := fs.Bool("keep", false, "keep the temporary data directory")
	serve := fs.Bool("serve", false, "keep the forwarder, the Google emulator and the console running until Ctrl-C")
	consoleListen := fs.String("console-listen", "127.0.0.1:0", "address of the console (and the read API)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "callforward-demo-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintf(io.Stdout, "data directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	// Google "processes" conversions for a moment, and rejects the
	// click of the demo's expired-click call, so the demo shows both
	// outcomes of processing.
	emu := emulator.New(emulator.Options{Seed: 1, Ads: emulator.AdsConfig{Processing: emulator.ProcessingConfig{
		DelayMS:             demoProcessing.Milliseconds(),
		RejectGCLIDPrefixes: map[string]string{demoExpiredGCLID: "PROCESSING_ERROR_REASON_EXPIRED_CLICK"},
	}}})
	google := httptest.NewServer(emu.Handler())
	defer google.Close()

	rulesPath, credsPath, token, adminToken, err := writeDemoFiles(dir)
	if err != nil {
		return err
	}
	cfg := app.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Store.DataDir = filepath.Join(dir, "data")
	cfg.RulesPath = rulesPath
	cfg.CredentialsPath = credsPath
	cfg.GA4Endpoint = google.URL
	cfg.DataManagerEndpoint = google.URL
	cfg.GoogleAdsEndpoint = google.URL
	cfg.OAuthTokenURL = google.URL + "/token"
	cfg.PollInterval = 20 * time.Millisecond
	cfg.Diagnostics.First, cfg.Diagnostics.Max = time.Second, time.Second
	cfg.AdminListen = *consoleListen
	a, err := app.New(cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()

	fmt.Fprintf(io.Stdout, "forwarder on http://%s, Google emulator on %s, rules from examples/rules.yaml\n", a.Addr(), google.URL)
	// The admin token is made for this demo and dies with it: printing it
	// is what lets its user log in.
	fmt.Fprintf(io.Stdout, "console on http://%s/ (log in with the demo's admin token %s)\n\n", a.AdminAddr(), adminToken)
	samples, err := fsGlob(examples.FS, "webhooks/*")
	if err != nil {
		return err
	}
	base := "http://" + a.Addr() + httpapi.WebhookPath
	for _, name := range samples {
		body, err := examples.FS.ReadFile(name)
		if err != nil {
			return err
		}
		reply, err := sendSample(ctx, base, token, path.Base(name), body, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(io.Stdout, "%-28s → %s\n", path.Base(name), reply)
	}
	// The platform re-sends a call it got no answer for: show dedup.
	again, _ := examples.FS.ReadFile("webhooks/answered-with-gclid.form")
	reply, err := sendSample(ctx, base, token, "answered-with-gclid.form", again, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "%-28s → %s\n", "answered-with-gclid (again)", reply)
	// Another caller, whose ad click Google will find expired.
	reply, err = sendSample(ctx, base, token, "answered-with-gclid.form", again, map[string]string{
		"Call.Sid": demoExpiredSid, "Google.AdWords.ClickId": demoExpiredGCLID + "Bw2h0fQ", "Call.From": "+61400000999",
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "%-28s → %s\n", "expired ad click", reply)

	if err := waitSettled(ctx, a, 10*time.Second); err != nil {
		return err
	}
	if err := waitProcessed(ctx, a, 15*time.Second); err != nil {
		return err
	}
	events := emu.GA4Events()
	fmt.Fprintf(io.Stdout, "\nGoogle Analytics 4 received %d event(s):\n", len(events))
	for _, e := range events {
		params, _ := json.Marshal(e.Params)
		fmt.Fprintf(io.Stdout, "  %s  client %s  %s %s\n", e.MeasurementID, e.ClientID, e.Name, params)
	}
	conversions := emu.DataManagerEvents()
	fmt.Fprintf(io.Stdout, "\nGoogle Ads (Data Manager API) received %d conversion(s):\n", len(conversions))
	for _, c := range conversions {
		value := "no value"
		if c.Value != nil {
			value = fmt.Sprintf("%g %s", *c.Value, c.Currency)
		}
		ids := "gclid"
		if c.GCLID == "" {
			ids = "no gclid"
		}
		if len(c.HashedPhones) > 0 {
			ids += " + hashed caller phone"
		}
		fmt.Fprintf(io.Stdout, "  customer %s  action %s  %s  %s  at %s  transaction %s\n",
			c.CustomerID, c.ConversionAction, value, ids, c.EventTimestamp, c.TransactionID)
	}
	fmt.Fprintf(io.Stdout, "\nGoogle's processing report (requestStatus:retrieve), per Google Ads delivery:\n")
	rejected := 0
	calls, _, err := a.ListCalls(ctx, store.CallFilter{}, "", 100)
	if err != nil {
		return err
	}
	for _, c := range calls {
		for _, j := range c.Jobs {
			if j.Job.Delivery.Type != forwarder.DestinationGoogleAds {
				continue
			}
			_, outcome := callview.Outcome(j)
			if j.Job.Verdict != nil && j.Job.Verdict.Outcome == forwarder.OutcomeRejected {
				rejected++
			}
			fmt.Fprintf(io.Stdout, "  %s  %s\n", j.Job.Delivery.ID, outcome)
		}
	}
	st, err := a.Stats(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "\nstore: %d calls, %d delivered, %d pending, %d dead-lettered (%d rejected by Google in processing), %d rejected\n",
		st.Calls, st.Done, st.Pending, st.Dead, rejected, st.Rejected)
	if *serve {
		fmt.Fprintf(io.Stdout, "\nthe forwarder, the Google emulator and the console on http://%s/ keep running; press Ctrl-C to stop\n", a.AdminAddr())
		select {
		case <-ctx.Done():
		case err := <-done:
			return err
		}
	}
	stop()
	if err := <-done; err != nil {
		return err
	}
	if dropped := emu.GA4Dropped(); len(dropped) > 0 {
		return fmt.Errorf("GA4 would have dropped %d event(s): %+v", len(dropped), dropped)
	}
	if st.Dead != rejected || st.Pending > 0 || rejected != 1 {
		return errors.New("some deliveries did not succeed, or Google's processing report was not the expected one")
	}
	return nil
}

// writeDemoFiles writes the example rules and a credentials file with a
// fresh webhook token, a fresh admin token and an API secret for every GA4
// stream in the rules.
func writeDemoFiles(dir string) (rulesPath, credsPath, token, adminToken string, err error) {
	rulesYAML, err := examples.FS.ReadFile("rules.yaml")
	if err != nil {
		return "", "", "", "", err
	}
	rulesPath = filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesPath, rulesYAML, 0o600); err != nil {
		return "", "", "", "", err
	}
	rules, err := mapping.Load(rulesPath)
	if err != nil {
		return "", "", "", "", err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", "", "", err
	}
	token, adminToken = hex.EncodeToString(b[:16]), "demo-"+hex.EncodeToString(b[16:])
	secrets := map[string]string{}
	for _, d := range rules.Destinations() {
		if d.MeasurementID != "" {
			secrets[d.MeasurementID] = "demo-api-secret"
		}
	}
	creds, err := json.Marshal(map[string]any{
		"webhook_tokens":  []string{token},
		"admin_tokens":    []map[string]string{{"label": "demo", "token": adminToken}},
		"ga4_api_secrets": secrets,
		// The emulator's token endpoint accepts any client and refresh token.
		"google": map[string]any{"oauth_client": map[string]string{
			"client_id": "demo.apps.googleusercontent.com", "client_secret": "demo-client-secret", "refresh_token": "demo-refresh-token",
		}},
	})
	if err != nil {
		return "", "", "", "", err
	}
	credsPath = filepath.Join(dir, "credentials.json")
	return rulesPath, credsPath, token, adminToken, os.WriteFile(credsPath, creds, 0o600)
}

// sendSample sends one sample the way the platform would, with its
// start date moved to a few minutes ago (GA4 takes events up to 72 hours old).
// set overrides more of its fields.
func sendSample(ctx context.Context, endpoint, token, name string, body []byte, set map[string]string) (string, error) {
	params := map[string]string{"Call.StartDate": examples.StartDate(time.Now().Add(-10 * time.Minute))}
	for k, v := range set {
		params[k] = v
	}
	body, err := examples.Set(name, body, params)
	if err != nil {
		return "", err
	}
	req, err := examples.NewRequest(ctx, endpoint, token, name, body)
	if err != nil {
		return "", err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("send %s: %w", name, err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %s", res.StatusCode, strings.TrimSpace(buf.String())), nil
}

// waitProcessed waits until Google reported on every Data Manager request.
func waitProcessed(ctx context.Context, a *app.App, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		st, err := a.PollStats(ctx)
		if err != nil {
			return err
		}
		if st.Pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no processing report from Google for %d request(s) after %v", st.Pending, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitSettled waits until no delivery is pending.
func waitSettled(ctx context.Context, a *app.App, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		st, err := a.Stats(ctx)
		if err != nil {
			return err
		}
		if st.Pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d deliveries still pending after %v", st.Pending, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func fsGlob(fsys fs.FS, pattern string) ([]string, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}
