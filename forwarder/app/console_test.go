package app

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsoleStatusFollowsReloads: the console's view of the rules in
// force follows reloads, and a refused reload is kept with its reason
// while the rules in force stay.
func TestConsoleStatusFollowsReloads(t *testing.T) {
	a := startApp(t, false)
	first := a.ConsoleStatus().Rules
	if first.SHA256 != shortSum([]byte(rulesWith("v1"))) || string(first.Source) != rulesWith("v1") || first.LoadedAt.IsZero() {
		t.Fatalf("rules at start: %+v", first)
	}
	if !first.RefusedAt.IsZero() {
		t.Errorf("a refused reload at start: %+v", first)
	}
	writeRules(t, a.path, unservedRules)
	if err := a.Reload(); err == nil {
		t.Fatal("rules without their API secret were loaded")
	}
	refused := a.ConsoleStatus().Rules
	if refused.SHA256 != first.SHA256 || refused.RefusedAt.IsZero() || refused.RefusedSHA256 != shortSum([]byte(unservedRules)) ||
		!strings.Contains(refused.RefusedReason, "G-NOSECRET") {
		t.Errorf("after a refused reload: %+v", refused)
	}
	writeRules(t, a.path, rulesWith("v2"))
	noErr(t, a.Reload())
	second := a.ConsoleStatus().Rules
	if second.SHA256 != shortSum([]byte(rulesWith("v2"))) || !second.LoadedAt.After(first.LoadedAt) || second.RefusedReason != refused.RefusedReason {
		t.Errorf("after a reload: %+v", second)
	}
	if st := a.ConsoleStatus(); st.Google.Configured || st.Started.IsZero() || st.Webhooks == nil {
		t.Errorf("status: %+v", st)
	}
}

// TestNoConsoleWithoutAdminListen: without AdminListen nothing listens
// for the console, and the webhook port does not serve it.
func TestNoConsoleWithoutAdminListen(t *testing.T) {
	a := startApp(t, false)
	if addr := a.AdminAddr(); addr != "" {
		t.Errorf("admin listener at %s without AdminListen", addr)
	}
	for _, path := range []string{"/login", "/calls", "/static/console.css", "/admin/api/overview"} {
		resp, err := http.Get("http://" + a.Addr() + path)
		noErr(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("the webhook port answers %s: %d, want 404", path, resp.StatusCode)
		}
	}
}
