package e2etest

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store/redistest"
)

// firstCallRules sends one GA4 event per caller new in 30 days.
const firstCallRules = `destinations:
  web: {type: ga4, measurement_id: ` + measurementID + `}
rules:
  - name: new-caller
    when: {first_call_within_days: 30}
    send: [{to: web, event: new_caller}]
`

// firstCallEnv is an env whose rules are firstCallRules.
func firstCallEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	must(t, os.WriteFile(filepath.Join(e.dir, "rules.yaml"), []byte(firstCallRules), 0o600))
	return e
}

// TestFirstCall runs the first_call_within_days matcher through the
// binary on each store: a caller's first call is sent, their second an
// hour later is not, another caller's is; and after a restart the
// callers are still known.
func TestFirstCall(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(t *testing.T, e *env) []string
	}{
		{"embedded store", func(*testing.T, *env) []string { return nil }},
		{"redis", func(t *testing.T, _ *env) []string { return sharedArgs(redistest.Start(t)) }},
		{"redis with a spool", func(t *testing.T, e *env) []string {
			return append(sharedArgs(redistest.Start(t)), "--spool-dir", filepath.Join(e.dir, "spool"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := firstCallEnv(t)
			args := tc.args(t, e)
			logs := &Logs{}
			f := e.start(t, logs, args...)

			now := time.Now().UTC().Truncate(time.Second)
			first := newCall(1, "ANSWERED", 90)
			again := newCall(2, "ANSWERED", 90)
			again.phone = first.phone
			other := newCall(3, "ANSWERED", 90)
			steps := []struct {
				c      call
				start  time.Time
				status string
			}{
				{first, now.Add(-2 * time.Hour), "accepted"},
				{again, now.Add(-time.Hour), "ignored"},
				{other, now.Add(-30 * time.Minute), "accepted"},
			}
			for _, s := range steps {
				if status, reply := postAt(t, f, e.token, s.c, s.start); status != http.StatusOK || reply["status"] != s.status {
					t.Fatalf("%s: %d %v, want 200 %s", s.c.sid, status, reply, s.status)
				}
			}
			want := []string{first.clientID + "/new_caller", other.clientID + "/new_caller"}
			Eventually(t, 10*time.Second, "the new callers' events", func() bool {
				lost, _ := account(want, e.received())
				return len(lost) == 0
			})
			if lost, dup := account(want, e.received()); len(lost) > 0 || len(dup) > 0 {
				t.Errorf("lost %v, duplicated or unexpected %v", lost, dup)
			}

			if _, err := f.Stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			f = e.start(t, logs, args...)
			later := newCall(4, "ANSWERED", 90)
			later.phone = other.phone
			if status, reply := postAt(t, f, e.token, later, now.Add(-10*time.Minute)); status != http.StatusOK || reply["status"] != "ignored" {
				t.Errorf("the second caller again, after a restart: %d %v, want 200 ignored", status, reply)
			}
			e.assertNoPersonalData(t, logs, []call{first, again, other, later})
		})
	}
}

// TestFirstCallSpoolOutage: while Redis is down a call is spooled and
// counts as no first call (its caller's history cannot be read), but it is
// recorded when the spool drains, so the caller's next call is known.
func TestFirstCallSpoolOutage(t *testing.T) {
	r := redistest.Start(t)
	e := firstCallEnv(t)
	spool := filepath.Join(e.dir, "spool")
	logs := &Logs{}
	f := e.start(t, logs, append(sharedArgs(r), "--spool-dir", spool)...)
	now := time.Now().UTC().Truncate(time.Second)

	r.Stop()
	during := newCall(1, "ANSWERED", 90)
	if status, reply := postAt(t, f, e.token, during, now.Add(-2*time.Hour)); status != http.StatusOK || reply["status"] != "ignored" {
		t.Fatalf("call during the outage: %d %v, want 200 ignored (spooled, history unknown)", status, reply)
	}
	if !strings.Contains(logs.String(), "caller history lookup failed") {
		t.Errorf("logs do not report the failed lookup:\n%s", logs)
	}
	r.Restart()
	Eventually(t, 30*time.Second, "the spool drains", func() bool {
		files, err := filepath.Glob(filepath.Join(spool, "c-*.json"))
		return err == nil && len(files) == 0
	})

	next := newCall(2, "ANSWERED", 90)
	next.phone = during.phone
	if status, reply := postAt(t, f, e.token, next, now.Add(-time.Hour)); status != http.StatusOK || reply["status"] != "ignored" {
		t.Errorf("the same caller after the outage: %d %v, want 200 ignored (the spooled call was recorded)", status, reply)
	}
	other := newCall(3, "ANSWERED", 90)
	if status, reply := postAt(t, f, e.token, other, now.Add(-time.Hour)); status != http.StatusOK || reply["status"] != "accepted" {
		t.Errorf("a new caller after the outage: %d %v, want 200 accepted", status, reply)
	}
	e.assertNoPersonalData(t, logs, []call{during, next, other})
}

// postAt posts c as a form with its Call.StartDate at start.
func postAt(t *testing.T, f *Forwarder, token string, c call, start time.Time) (int, map[string]any) {
	t.Helper()
	form := c.form()
	form.Set("Call.StartDate", start.UTC().Format("2006-01-02 15:04:05"))
	req, err := http.NewRequest(http.MethodPost, f.URL()+"/webhooks/fonedynamics", strings.NewReader(form.Encode()))
	must(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	status, body, err := Post(context.Background(), req)
	if err != nil {
		t.Fatalf("post %s: %v", c.sid, err)
	}
	return status, body
}
