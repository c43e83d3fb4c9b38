package cli

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/callforward/callforward/examples"
)

func TestDemo(t *testing.T) {
	clearEnv(t)
	r := run(t, nil, "demo")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%v", r.code, r)
	}
	names, err := fsGlob(examples.FS, "webhooks/*")
	if err != nil || len(names) == 0 {
		t.Fatalf("samples: %v, %v", names, err)
	}
	for _, name := range names {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(path.Base(name)) + ` +→ 200 `).MatchString(r.stdout) {
			t.Errorf("stdout has no 200 reply for sample %s\n%v", path.Base(name), r)
		}
	}
	for _, want := range []string{
		"console on http://127.0.0.1:",
		`answered-with-gclid (again)  → 200 {"status":"duplicate"}`,
		" 0 pending, 1 dead-lettered (1 rejected by Google in processing), 0 rejected",
		"CA7d1e0c5b4a39281706f5e4d3c2b1a0ff/qualified-call-to-ads/google-ads  rejected by Google: EXPIRED_CLICK\n",
		"CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b/qualified-call-to-ads/google-ads  counted\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout does not contain %q\n%v", want, r)
		}
	}
	// "Google Analytics 4 received N event(s):", then one line per event:
	// "  G-HARBOUR01  client X.Y  name {params}".
	m := regexp.MustCompile(`Google Analytics 4 received (\d+) event\(s\):`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("stdout does not report the GA4 events received\n%v", r)
	}
	lines := regexp.MustCompile(`(?m)^  G-HARBOUR01  client \S+  (\S+) \{`).FindAllStringSubmatch(r.stdout, -1)
	if strconv.Itoa(len(lines)) != m[1] {
		t.Errorf("demo says GA4 received %s event(s) and lists %d\n%v", m[1], len(lines), r)
	}
	counts := map[string]int{}
	for _, l := range lines {
		counts[l[1]]++
	}
	// The samples hold three completed calls with a client id, two of them
	// answered for over a minute, one with a survey value; the demo adds
	// one answered call from an expired ad click.
	for name, n := range map[string]int{"phone_call": 4, "qualified_call": 3, "booking": 1} {
		if counts[name] != n {
			t.Errorf("GA4 received %d %q event(s), want %d (all: %v)\n%v", counts[name], name, n, counts, r)
		}
	}
}

// TestDemoServe: demo --serve keeps the console up after the samples are
// delivered, logs in with the admin token it printed, and stops cleanly
// when its context ends; plain demo ends by itself (TestDemo).
func TestDemoServe(t *testing.T) {
	clearEnv(t)
	consoleLine := regexp.MustCompile(`console on (http://\S+/) \(log in with the demo's admin token (\S+)\)`)
	var status int
	r := runUntil(t, func(stdout, _ string) bool {
		m := consoleLine.FindStringSubmatch(stdout)
		if m == nil || !strings.Contains(stdout, "press Ctrl-C to stop") {
			return false
		}
		status = consoleLogin(t, m[1], m[2])
		return true
	}, "demo", "--serve")
	if r.code != 0 {
		t.Errorf("exit %d after the context was cancelled, want 0\n%v", r.code, r)
	}
	if status != http.StatusOK {
		t.Errorf("the console while demo --serve runs: %d after logging in, want 200", status)
	}
}

// consoleLogin logs in to the console at base with token and returns the
// status of the overview.
func consoleLogin(t *testing.T, base, token string) int {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no login form at %s", base)
	}
	resp, err = c.PostForm(base+"login", url.Values{"csrf": {string(m[1])}, "token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/" {
		t.Fatalf("after logging in: %s, want the overview", resp.Request.URL)
	}
	return resp.StatusCode
}

func TestDemoRejectsArguments(t *testing.T) {
	clearEnv(t)
	r := run(t, nil, "demo", "--fast")
	if r.code != 2 || !strings.Contains(r.stderr, "flag provided but not defined: -fast") {
		t.Errorf("got %v\nwant exit 2 naming the unknown flag", r)
	}
}

func TestEmulate(t *testing.T) {
	clearEnv(t)
	r := runUntil(t, func(stdout, _ string) bool {
		return strings.Contains(stdout, "emulator listening on http://127.0.0.1:")
	}, "emulate", "--listen", "127.0.0.1:0")
	if r.code != 0 {
		t.Errorf("exit %d after the context was cancelled, want 0\n%v", r.code, r)
	}

	t.Setenv("FORWARDER_LISTEN", "bad-address")
	r = run(t, nil, "emulate")
	if r.code != 1 || !strings.Contains(r.stderr, "listen:") {
		t.Errorf("with FORWARDER_LISTEN=bad-address: %v\nwant exit 1 and a listen error", r)
	}
}
