package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/logtest"
)

// rulesWith is a rules file whose single rule is named name.
func rulesWith(name string) string {
	return fmt.Sprintf(`destinations:
  web:
    type: ga4
    measurement_id: G-APPTEST1
rules:
  - name: %s
    send:
      - to: web
        event: phone_call
`, name)
}

// A rules file with an error on line 8.
const brokenRules = `destinations:
  web:
    type: ga4
    measurement_id: G-APPTEST1
rules:
  - name: broken
    when:
      min_duration: sixty
    send:
      - to: web
        event: phone_call
`

// A rules file that compiles but sends to a GA4 stream the credentials
// have no API secret for.
const unservedRules = `destinations:
  web:
    type: ga4
    measurement_id: G-NOSECRET
rules:
  - name: unserved
    send:
      - to: web
        event: phone_call
`

// testApp is an App on a temporary directory, running until the test ends.
type testApp struct {
	*App
	path string // of the rules file
	logs *logtest.Buffer
}

func startApp(t *testing.T, watch bool) *testApp {
	t.Helper()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	writeRules(t, rules, rulesWith("v1"))
	creds := filepath.Join(dir, "credentials.json")
	noErr(t, os.WriteFile(creds, []byte(`{"webhook_tokens": ["0123456789abcdef0123"], "ga4_api_secrets": {"G-APPTEST1": "s"}}`), 0o600))
	logs := &logtest.Buffer{}
	cfg := testConfig(dir, rules, creds)
	cfg.WatchRules = watch
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, stop := runApp(t, cfg)
	t.Cleanup(stop)
	ta := &testApp{App: a, path: rules, logs: logs}
	// The watcher's first look at the file is logged; wait for it so
	// that no test step races with the start.
	if watch {
		waitUntil(t, "the watch started", func() bool { return strings.Contains(logs.String(), "watching file for changes") })
	}
	return ta
}

// inForce is the name of the single rule in force.
func (a *testApp) inForce() string { return strings.Join(a.rules.Load().RuleNames(), ",") }

// reloads reads callforward_rules_reloads_total from the metrics endpoint.
func (a *testApp) reloads(t *testing.T) (ok, refused int) {
	t.Helper()
	rec := httptest.NewRecorder()
	a.metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		var n int
		if _, err := fmt.Sscanf(line, `callforward_rules_reloads_total{result="ok"} %d`, &n); err == nil {
			ok = n
		}
		if _, err := fmt.Sscanf(line, `callforward_rules_reloads_total{result="refused"} %d`, &n); err == nil {
			refused = n
		}
	}
	return ok, refused
}

// TestWatchRules changes the rules file of a running app in the ways
// editors, deploy tools and Kubernetes do, and checks after each change
// which rules are in force and how many reloads were counted.
func TestWatchRules(t *testing.T) {
	t.Parallel()
	a := startApp(t, true)
	if got := a.inForce(); got != "v1" {
		t.Fatalf("at start: rules %q in force, want v1", got)
	}
	steps := []struct {
		name        string
		change      func(t *testing.T)
		inForce     string
		ok, refused int // counts after the step
	}{
		{"write in place", func(t *testing.T) { writeRules(t, a.path, rulesWith("v2")) }, "v2", 1, 0},
		{"rename over", func(t *testing.T) { replaceRules(t, a.path, rulesWith("v3")) }, "v3", 2, 0},
		{"broken file refused", func(t *testing.T) { writeRules(t, a.path, brokenRules) }, "v3", 2, 1},
		{"the same broken file again is not tried again", func(t *testing.T) { replaceRules(t, a.path, brokenRules) }, "v3", 2, 1},
		{"file the credentials cannot serve refused", func(t *testing.T) { writeRules(t, a.path, unservedRules) }, "v3", 2, 2},
		{"good file after a refusal", func(t *testing.T) { replaceRules(t, a.path, rulesWith("v4")) }, "v4", 3, 2},
		{"touch changes nothing", func(t *testing.T) {
			later := time.Now().Add(time.Minute)
			noErr(t, os.Chtimes(a.path, later, later))
		}, "v4", 3, 2},
		{"rewrite with the same content changes nothing", func(t *testing.T) { writeRules(t, a.path, rulesWith("v4")) }, "v4", 3, 2},
		{"back to content loaded before", func(t *testing.T) { writeRules(t, a.path, rulesWith("v3")) }, "v3", 4, 2},
	}
	for _, s := range steps {
		s.change(t)
		waitUntil(t, s.name, func() bool {
			ok, refused := a.reloads(t)
			return ok == s.ok && refused == s.refused
		})
		// Nothing more comes later.
		time.Sleep(3 * rulesDebounce)
		if ok, refused := a.reloads(t); ok != s.ok || refused != s.refused {
			t.Fatalf("%s: reloads ok=%d refused=%d, want %d and %d", s.name, ok, refused, s.ok, s.refused)
		}
		if got := a.inForce(); got != s.inForce {
			t.Fatalf("%s: rules %q in force, want %q", s.name, got, s.inForce)
		}
	}
	logs := a.logs.String()
	if !strings.Contains(logs, "rules.yaml:8:") {
		t.Errorf("the refusal does not name the file and line:\n%s", logs)
	}
	if !strings.Contains(logs, "G-NOSECRET") {
		t.Errorf("the refusal does not name the stream without a secret:\n%s", logs)
	}
	if n := strings.Count(logs, `"trigger":"file change"`); n < 6 {
		t.Errorf("%d log lines name the file change trigger, want at least 6", n)
	}
}

// TestWatchRulesConfigMap: the rules file is a Kubernetes ConfigMap
// mount, updated by swapping its ..data symlink.
func TestWatchRulesConfigMap(t *testing.T) {
	t.Parallel()
	a := startApp(t, true)
	dir := filepath.Dir(a.path)
	// Turn the plain file into a ConfigMap layout holding the same content
	// (no reload), then swap in a new version.
	noErr(t, os.Mkdir(filepath.Join(dir, "..v1"), 0o755))
	writeRules(t, filepath.Join(dir, "..v1", "rules.yaml"), rulesWith("v1"))
	noErr(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
	noErr(t, os.Symlink("..data/rules.yaml", filepath.Join(dir, "rules.tmp")))
	noErr(t, os.Rename(filepath.Join(dir, "rules.tmp"), a.path))
	time.Sleep(3 * rulesDebounce)
	if ok, refused := a.reloads(t); ok != 0 || refused != 0 {
		t.Fatalf("same content behind a symlink: reloads ok=%d refused=%d, want none", ok, refused)
	}
	noErr(t, os.Mkdir(filepath.Join(dir, "..v2"), 0o755))
	writeRules(t, filepath.Join(dir, "..v2", "rules.yaml"), rulesWith("v2"))
	noErr(t, os.Symlink("..v2", filepath.Join(dir, "..data_tmp")))
	noErr(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	noErr(t, os.RemoveAll(filepath.Join(dir, "..v1")))
	waitUntil(t, "v2 in force", func() bool { return a.inForce() == "v2" })
	time.Sleep(3 * rulesDebounce)
	if ok, refused := a.reloads(t); ok != 1 || refused != 0 {
		t.Fatalf("after the swap: reloads ok=%d refused=%d, want 1 and 0", ok, refused)
	}
}

// TestReloadSignalAndWatch: Reload (SIGHUP) always reloads; a change it
// already loaded is not loaded again when the watcher sees it.
func TestReloadSignalAndWatch(t *testing.T) {
	t.Parallel()
	a := startApp(t, true)
	noErr(t, a.Reload())
	if ok, _ := a.reloads(t); ok != 1 {
		t.Fatalf("Reload of an unchanged file: %d reloads, want 1 (a signal always reloads)", ok)
	}
	writeRules(t, a.path, rulesWith("v2"))
	noErr(t, a.Reload()) // before the watcher's debounce ends
	if got := a.inForce(); got != "v2" {
		t.Fatalf("after Reload: rules %q in force, want v2", got)
	}
	time.Sleep(4 * rulesDebounce)
	if ok, refused := a.reloads(t); ok != 2 || refused != 0 {
		t.Fatalf("reloads ok=%d refused=%d, want 2 and 0: the watcher reloaded what the signal had", ok, refused)
	}
	writeRules(t, a.path, brokenRules)
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "rules.yaml:8:") {
		t.Fatalf("Reload of a broken file: %v, want its errors", err)
	}
	if got := a.inForce(); got != "v2" {
		t.Fatalf("after a refused Reload: rules %q in force, want v2", got)
	}
	noErr(t, os.Remove(a.path))
	if err := a.Reload(); err == nil {
		t.Fatal("Reload of a missing file succeeded")
	}
	time.Sleep(4 * rulesDebounce)
	if ok, refused := a.reloads(t); ok != 2 || refused != 2 {
		t.Fatalf("reloads ok=%d refused=%d, want 2 and 2", ok, refused)
	}
	if got := a.inForce(); got != "v2" {
		t.Fatalf("with the file gone: rules %q in force, want v2", got)
	}
}

// TestWatchRulesOff: with WatchRules off a change waits for a signal.
func TestWatchRulesOff(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	writeRules(t, a.path, rulesWith("v2"))
	time.Sleep(4 * rulesDebounce)
	if got := a.inForce(); got != "v1" {
		t.Fatalf("without watching: rules %q in force, want v1", got)
	}
	if strings.Contains(a.logs.String(), "watching file") {
		t.Errorf("the rules file is watched although WatchRules is off:\n%s", a.logs)
	}
	noErr(t, a.Reload())
	if got := a.inForce(); got != "v2" {
		t.Fatalf("after Reload: rules %q in force, want v2", got)
	}
}

// TestRulesTooLarge: an oversized rules file is refused at start and on
// reload.
func TestRulesTooLarge(t *testing.T) {
	t.Parallel()
	a := startApp(t, false)
	big := rulesWith("v2") + "# " + strings.Repeat("x", maxRulesSize) + "\n"
	writeRules(t, a.path, big)
	if err := a.Reload(); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Reload of an oversized file: %v", err)
	}
	cfg := a.cfg
	cfg.Store.DataDir = t.TempDir()
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("New with an oversized file: %v", err)
	}
	if got := a.inForce(); got != "v1" {
		t.Fatalf("rules %q in force, want v1", got)
	}
}

// testConfig is the default configuration with a store in dir, the rules
// and credentials files given, and a free loopback port.
func testConfig(dir, rules, creds string) Config {
	cfg := Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Store.DataDir = filepath.Join(dir, "data")
	cfg.RulesPath = rules
	cfg.CredentialsPath = creds
	return cfg
}

func writeRules(t *testing.T, path, content string) {
	t.Helper()
	noErr(t, os.WriteFile(path, []byte(content), 0o600))
}

// replaceRules writes content beside path and renames it over path, as
// editors and deploy tools do.
func replaceRules(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	noErr(t, os.WriteFile(tmp, []byte(content), 0o600))
	noErr(t, os.Rename(tmp, path))
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runApp builds an App of cfg and runs it until stop, which cancels
// Run, waits for it to return (failing t if it returned an error) and
// closes the App.
func runApp(t *testing.T, cfg Config) (a *App, stop func()) {
	t.Helper()
	a, err := New(cfg)
	noErr(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return a, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		noErr(t, a.Close())
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
