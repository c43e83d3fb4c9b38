package e2etest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReloadOnSIGHUP edits the rules of a running forwarder: SIGHUP puts
// a good file in force, and a broken file is refused with its errors
// logged while the previous rules keep working.
func TestReloadOnSIGHUP(t *testing.T) {
	e := newEnv(t)
	logs := &Logs{}
	f := e.start(t, logs)
	rulesPath := filepath.Join(e.dir, "rules.yaml")
	orig, err := os.ReadFile(rulesPath)
	must(t, err)

	send := func(i int) call {
		c := newCall(i, "BUSY", 5)
		if code, reply := e.post(t, f, c); code != http.StatusOK || reply["status"] != "accepted" {
			t.Fatalf("call %d: %d %v", i, code, reply)
		}
		return c
	}
	waitEvent := func(key string) {
		Eventually(t, 10*time.Second, "event "+key, func() bool { return e.received()[key] == 1 })
	}
	c1 := send(1)
	waitEvent(c1.clientID + "/phone_call")

	renamed := strings.ReplaceAll(string(orig), "event: phone_call", "event: call_finished")
	must(t, os.WriteFile(rulesPath, []byte(renamed), 0o600))
	must(t, f.Signal(syscall.SIGHUP))
	Eventually(t, 10*time.Second, "reload logged", func() bool { return strings.Contains(logs.String(), "rules reloaded") })
	c2 := send(2)
	waitEvent(c2.clientID + "/call_finished")

	must(t, os.WriteFile(rulesPath, []byte(renamed+"  - name: broken\n    when: {min_duration: sixty}\n    send: [{to: web, event: x}]\n"), 0o600))
	must(t, f.Signal(syscall.SIGHUP))
	Eventually(t, 10*time.Second, "refusal logged", func() bool { return strings.Contains(logs.String(), "rules reload refused") })
	c3 := send(3)
	waitEvent(c3.clientID + "/call_finished")
	brokenLine := strings.Count(renamed, "\n") + 2
	if !strings.Contains(logs.String(), fmt.Sprintf("rules.yaml:%d:", brokenLine)) {
		t.Errorf("the refusal does not name the file and line:\n%s", logs)
	}
}
