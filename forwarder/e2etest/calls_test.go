package e2etest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store/redistest"
)

// The sample call's identifiers (examples/webhooks/answered-with-gclid.form).
const (
	sampleSid      = "CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b"
	samplePhone    = "+61412345678"
	sampleClientID = "1873452911.1764110422"
	sampleGCLID    = "Cj0KCQiA4L67BhDUARIsADWrl7Gx1bX8kqZ3vM0wYtN5cQe9sRr2hLpD4fE_aBcD"
)

// addAdminToken adds an admin token labelled label to the env's
// credentials and returns it.
func (e *env) addAdminToken(t *testing.T, label string) string {
	t.Helper()
	path := filepath.Join(e.dir, "credentials.json")
	data, err := os.ReadFile(path)
	must(t, err)
	var creds map[string]any
	must(t, json.Unmarshal(data, &creds))
	tok := "admin-" + randHex(16)
	creds["admin_tokens"] = []map[string]string{{"label": label, "token": tok}}
	data, err = json.Marshal(creds)
	must(t, err)
	must(t, os.WriteFile(path, data, 0o600))
	return tok
}

// adminAddr waits for the forwarder's "read API listening" log line and
// returns its address.
func adminAddr(t *testing.T, logs *Logs) string {
	t.Helper()
	var addr string
	Eventually(t, 10*time.Second, "the read API listens", func() bool {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "read API listening" {
				addr = rec.Addr
				return true
			}
		}
		return false
	})
	return addr
}

// adminGet requests url with the bearer token ("" for none).
func adminGet(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	must(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, body
}

// TestCallsTimelineAndReadAPI: a forwarder delivers the sample call (GA4
// events and a Data Manager conversion) and a GA4-only call to the
// emulator. The read API, on its own listener, lists both calls and shows
// each delivery's outcome; the webhook port does not serve it; calls list
// and calls show say the same, on Redis while the forwarder runs, on the
// embedded store once it stopped. No output and no log line shows a phone
// number, client id, GCLID or the admin token.
func TestCallsTimelineAndReadAPI(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { testCallsTimeline(t, nil) })
	t.Run("redis", func(t *testing.T) { testCallsTimeline(t, redistest.Start(t)) })
}

func testCallsTimeline(t *testing.T, r *redistest.Server) {
	e := newEnv(t)
	e.useExampleRules(t, "")
	token := e.addAdminToken(t, "e2e-dashboard")
	logs := &Logs{}
	args := append(e.adsArgs(), "--admin-listen", "127.0.0.1:0")
	storeArgs := []string{"--data-dir", filepath.Join(e.dir, "data")}
	if r != nil {
		storeArgs = []string{"--redis-url", r.URL()}
		args = append(args, storeArgs...)
	}
	f := e.start(t, logs, args...)
	admin := "http://" + adminAddr(t, logs)

	e.postSample(t, f, "answered-with-gclid.form", nil)
	other := newCall(1, "NO ANSWER", 0)
	other.clientID = "1873452999.1764110499"
	if code, reply := e.post(t, f, other); code != http.StatusOK {
		t.Fatalf("post: %d %v", code, reply)
	}
	Eventually(t, 15*time.Second, "the calls are delivered", func() bool {
		return len(e.emu.DataManagerEvents()) == 1 && len(e.emu.GA4Events()) >= 3
	})

	var outputs []string
	if code, body := adminGet(t, f.URL()+"/admin/api/overview", token); code != http.StatusNotFound {
		t.Errorf("the webhook port answers the read API: %d %s", code, body)
	}
	if code, _ := adminGet(t, admin+"/admin/api/overview", ""); code != http.StatusUnauthorized {
		t.Errorf("read API without a token: %d, want 401", code)
	}
	if code, _ := adminGet(t, admin+"/admin/api/overview", "admin-"+randHex(16)); code != http.StatusForbidden {
		t.Errorf("read API with a wrong token: %d, want 403", code)
	}

	type delivery struct {
		ID, State, Outcome, Type string
		Attempts                 int
	}
	var view struct {
		Sid        string
		Call       struct{ From, GCLID, GAClientID string } `json:"call"`
		Rules      []struct{ Rule string }
		RulesNote  string `json:"rules_note"`
		Deliveries []delivery
	}
	Eventually(t, 10*time.Second, "every delivery of the sample call is settled", func() bool {
		code, body := adminGet(t, admin+"/admin/api/calls/"+sampleSid, token)
		if code != http.StatusOK || json.Unmarshal(body, &view) != nil {
			return false
		}
		outputs = append(outputs, string(body))
		for _, d := range view.Deliveries {
			if d.State != "done" {
				return false
			}
		}
		return len(view.Deliveries) > 0
	})
	outcomes := map[string]string{}
	for _, d := range view.Deliveries {
		outcomes[d.ID] = d.Outcome
		if d.Attempts < 1 {
			t.Errorf("%s: %d attempts, want at least 1", d.ID, d.Attempts)
		}
	}
	want := map[string]string{
		sampleSid + "/every-call/website":               "sent (GA4 does not report processing)",
		sampleSid + "/qualified-call/website":           "sent (GA4 does not report processing)",
		sampleSid + "/qualified-call-to-ads/google-ads": "",
	}
	for id, out := range want {
		got, ok := outcomes[id]
		switch {
		case !ok:
			t.Errorf("no delivery %s in %v", id, outcomes)
		case out != "" && got != out:
			t.Errorf("%s: outcome %q, want %q", id, got, out)
		case out == "" && got != "awaiting" && got != "counted":
			t.Errorf("%s: outcome %q, want awaiting or counted (Data Manager)", id, got)
		}
	}
	if view.Call.From != "•••678" || view.Call.GCLID != "Cj0K…" || len(view.Rules) == 0 || view.RulesNote == "" {
		t.Errorf("call view: %+v", view)
	}

	code, body := adminGet(t, admin+"/admin/api/calls?since=1h", token)
	outputs = append(outputs, string(body))
	if code != http.StatusOK || !strings.Contains(string(body), sampleSid) || !strings.Contains(string(body), other.sid) {
		t.Errorf("calls: %d %s", code, body)
	}
	for _, path := range []string{"/admin/api/deadletters", "/admin/api/overview", "/admin/api/calls?state=awaiting"} {
		code, body := adminGet(t, admin+path, token)
		outputs = append(outputs, string(body))
		if code != http.StatusOK {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}

	if r == nil {
		// The embedded store is held by the running forwarder.
		if _, err := f.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
	}
	rules := []string{"--rules", filepath.Join(e.dir, "rules.yaml")}
	list := Run(t, e.bin, append([]string{"calls", "list"}, storeArgs...)...)
	if !strings.Contains(list, sampleSid) || !strings.Contains(list, other.sid) || !strings.Contains(list, "2 call(s)") {
		t.Errorf("calls list:\n%s", list)
	}
	show := Run(t, e.bin, append(append([]string{"calls", "show", sampleSid}, storeArgs...), rules...)...)
	for _, w := range []string{"Call " + sampleSid, "•••678", "qualified-call-to-ads", "sent (GA4 does not report processing)", "verdicts from the rules in force"} {
		if !strings.Contains(show, w) {
			t.Errorf("calls show lacks %q:\n%s", w, show)
		}
	}
	showJSON := Run(t, e.bin, append(append(append([]string{"calls", "show", "--json"}, storeArgs...), rules...), other.sid)...)
	if !strings.Contains(showJSON, `"sid": "`+other.sid+`"`) {
		t.Errorf("calls show --json:\n%s", showJSON)
	}
	outputs = append(outputs, list, show, showJSON, Run(t, e.bin, append([]string{"calls", "list", "--json"}, storeArgs...)...))
	if r != nil {
		if _, err := f.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
	}

	secrets := []string{token, samplePhone, "412345678", sampleClientID, sampleGCLID, "Cj0KCQiA4L67", other.phone, other.clientID}
	for i, out := range append(outputs, logs.String()) {
		if n, ok := Contains(out, secrets...); ok {
			t.Errorf("output %d shows %q:\n%s", i, n, out)
		}
	}
	if !strings.Contains(logs.String(), `"token_label":"e2e-dashboard"`) {
		t.Errorf("the log does not name the admin token's label")
	}
}

// TestAdminListenNeedsTokens: serve refuses --admin-listen when the
// credentials hold no admin token.
func TestAdminListenNeedsTokens(t *testing.T) {
	e := newEnv(t)
	out, err := exec.Command(e.bin, "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
		"--data-dir", filepath.Join(e.dir, "data"), "--rules", filepath.Join(e.dir, "rules.yaml"),
		"--credentials", filepath.Join(e.dir, "credentials.json")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no admin token") {
		t.Errorf("serve --admin-listen without admin tokens: %v\n%s", err, out)
	}
}
