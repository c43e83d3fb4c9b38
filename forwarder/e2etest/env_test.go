package e2etest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

const measurementID = "G-E2ETEST1"

// env is one test's world: an emulator standing in for Google, a data
// directory, the rules and the credentials.
type env struct {
	bin    string
	emu    *emulator.Server
	google *httptest.Server
	dir    string
	token  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, emulator.Options{Seed: 7})
}

// newEnvWith is newEnv with an emulator configured by opts.
func newEnvWith(t *testing.T, opts emulator.Options) *env {
	t.Helper()
	e := &env{bin: Binary(t), emu: emulator.New(opts), dir: t.TempDir()}
	e.google = httptest.NewServer(e.emu.Handler())
	t.Cleanup(e.google.Close)
	var b [16]byte
	rand.Read(b[:])
	e.token = hex.EncodeToString(b[:])
	creds, _ := json.Marshal(map[string]any{
		"webhook_tokens":  []string{e.token},
		"ga4_api_secrets": map[string]string{measurementID: "e2e-secret"},
	})
	must(t, os.WriteFile(filepath.Join(e.dir, "credentials.json"), creds, 0o600))
	rules, err := os.ReadFile("testdata/rules.yaml")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(e.dir, "rules.yaml"), rules, 0o600))
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// start runs the forwarder on this env's data dir with a fast retry
// schedule, so that retries happen within a test's time.
func (e *env) start(t *testing.T, logs *Logs, extra ...string) *Forwarder {
	args := []string{
		"--data-dir", filepath.Join(e.dir, "data"),
		"--rules", filepath.Join(e.dir, "rules.yaml"),
		"--credentials", filepath.Join(e.dir, "credentials.json"),
		"--ga4-endpoint", e.google.URL,
		"--poll-interval", "10ms",
		"--retry-schedule", "20ms,40ms,80ms,160ms,320ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms",
		"--send-timeout", "2s",
		"--lease", "5s",
	}
	return Start(t, e.bin, logs, append(args, extra...)...)
}

// call is a synthetic Call.Complete webhook.
type call struct {
	sid, clientID, phone, disposition string
	duration                          int
}

func newCall(i int, disposition string, duration int) call {
	return call{
		sid:         fmt.Sprintf("CAe2e%06d%s", i, randHex(4)),
		clientID:    fmt.Sprintf("%d.%d", 100000000+i, 1764110000+i),
		phone:       fmt.Sprintf("+614%08d", 10000000+i),
		disposition: disposition,
		duration:    duration,
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (c call) form() url.Values {
	return url.Values{
		"Action": {"Webhook"}, "Event": {"Call.Complete"},
		"Account.Sid": {"ACe2e"}, "Property.Sid": {"PRe2e"}, "Property.Name": {"www.example.com.au"}, "Property.Type": {"Site"},
		"Call.Sid": {c.sid}, "Call.StartDate": {time.Now().UTC().Add(-5 * time.Minute).Format("2006-01-02 15:04:05")},
		"Call.From": {c.phone}, "Call.To": {"+61291234567"}, "Call.To.Type": {"Dynamic"}, "Call.To.Name": {"Website"},
		"Call.Duration": {fmt.Sprint(c.duration)}, "Call.Disposition": {c.disposition},
		"Google.Analytics.ClientId": {c.clientID},
	}
}

// expected lists the GA4 events the test rules plan for c, as "clientID/name".
func (c call) expected() []string {
	out := []string{c.clientID + "/phone_call"}
	if c.disposition == "ANSWERED" && c.duration >= 60 {
		out = append(out, c.clientID+"/qualified_call")
	}
	return out
}

func (e *env) post(t testing.TB, f *Forwarder, c call) (int, map[string]any) {
	t.Helper()
	status, body, err := postForm(f, e.token, c)
	if err != nil {
		t.Fatalf("post %s: %v", c.sid, err)
	}
	return status, body
}

// postForm sends c as a form POST with the token.
func postForm(f *Forwarder, token string, c call) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, f.URL()+"/webhooks/fonedynamics", strings.NewReader(c.form().Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	return Post(context.Background(), req)
}

// received counts the events the emulator recorded, by "clientID/name".
func (e *env) received() map[string]int {
	got := map[string]int{}
	for _, ev := range e.emu.GA4Events() {
		got[ev.ClientID+"/"+ev.Name]++
	}
	return got
}

// account compares what should have arrived with what did.
func account(want []string, got map[string]int) (lost, duplicated []string) {
	seen := map[string]bool{}
	for _, k := range want {
		seen[k] = true
		switch n := got[k]; {
		case n == 0:
			lost = append(lost, k)
		case n > 1:
			duplicated = append(duplicated, fmt.Sprintf("%s×%d", k, n))
		}
	}
	for k := range got {
		if !seen[k] {
			duplicated = append(duplicated, k+" (unexpected)")
		}
	}
	return lost, duplicated
}

// assertNoPersonalData fails if any phone number, client id or token of
// the calls appears in the logs.
func (e *env) assertNoPersonalData(t *testing.T, logs *Logs, calls []call) {
	t.Helper()
	s := logs.String()
	needles := []string{e.token, "e2e-secret"}
	for _, c := range calls {
		needles = append(needles, c.phone, c.clientID)
	}
	if n, ok := Contains(s, needles...); ok {
		t.Errorf("logs contain personal data or a secret: %q", n)
	}
}
