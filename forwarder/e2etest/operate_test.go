package e2etest

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDeadLettersAndReplay walks an operator through a dead letter and a
// rules fix: a call too old for GA4 is dead-lettered with its reason;
// deadletter list/retry/drop act on it; replay after a new rule queues
// only the new delivery, and nothing delivered is sent again.
func TestDeadLettersAndReplay(t *testing.T) {
	e := newEnv(t)
	logs := &Logs{}
	f := e.start(t, logs)
	data := filepath.Join(e.dir, "data")

	fresh := newCall(1, "ANSWERED", 90)
	if code, reply := e.post(t, f, fresh); code != http.StatusOK || reply["status"] != "accepted" {
		t.Fatalf("fresh call: %d %v", code, reply)
	}
	old := newCall(2, "BUSY", 5)
	form := old.form()
	form.Set("Call.StartDate", time.Now().UTC().Add(-80*time.Hour).Format("2006-01-02 15:04:05"))
	req, _ := http.NewRequest(http.MethodPost, f.URL()+"/webhooks/fonedynamics", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+e.token)
	if code, reply, err := Post(t.Context(), req); err != nil || code != 200 || reply["status"] != "accepted" {
		t.Fatalf("old call: %d %v %v", code, reply, err)
	}
	Eventually(t, 10*time.Second, "fresh call delivered and old one dead-lettered", func() bool {
		return len(e.emu.GA4Events()) == 2 && strings.Contains(logs.String(), "dead-lettered")
	})
	if _, err := f.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	list := Run(t, e.bin, "deadletter", "list", "--data-dir", data)
	if !strings.Contains(list, old.sid+"/every-call/web") || !strings.Contains(list, "event_too_old") || !strings.Contains(list, "1 dead letter(s)") {
		t.Fatalf("deadletter list:\n%s", list)
	}
	var dead []map[string]any
	if err := json.Unmarshal([]byte(Run(t, e.bin, "deadletter", "list", "--json", "--data-dir", data)), &dead); err != nil || len(dead) != 1 {
		t.Fatalf("deadletter list --json: %v %v", dead, err)
	}
	if out := Run(t, e.bin, "deadletter", "retry", "--code", "event_too_old", "--data-dir", data); !strings.Contains(out, "1 dead letter(s) retried") {
		t.Fatalf("retry: %s", out)
	}
	if out := Run(t, e.bin, "deadletter", "list", "--data-dir", data); !strings.Contains(out, "0 dead letter(s)") {
		t.Fatalf("after retry: %s", out)
	}

	// A new rule: answered calls also send call_answered. Replay queues it
	// for the fresh call only; its two delivered events are not re-sent.
	rulesPath := filepath.Join(e.dir, "rules.yaml")
	rules, _ := os.ReadFile(rulesPath)
	rules = append(rules, []byte(`  - name: answered
    when: {disposition: [ANSWERED]}
    send: [{to: web, event: call_answered}]
`)...)
	must(t, os.WriteFile(rulesPath, rules, 0o600))
	dry := Run(t, e.bin, "replay", "--since", "1h", "--dry-run", "--rules", rulesPath, "--data-dir", data)
	if !strings.Contains(dry, "would queue "+fresh.sid+"/answered/web") || !strings.Contains(dry, "1 new deliveries would be queued") {
		t.Fatalf("replay --dry-run:\n%s", dry)
	}
	out := Run(t, e.bin, "replay", "--since", "1h", "--rules", rulesPath, "--data-dir", data)
	if !strings.Contains(out, "1 new deliveries queued") {
		t.Fatalf("replay:\n%s", out)
	}

	f = e.start(t, logs)
	Eventually(t, 10*time.Second, "replayed delivery arrives and the retried one is dead again", func() bool {
		return e.received()[fresh.clientID+"/call_answered"] == 1 && strings.Count(logs.String(), "dead-lettered") >= 2
	})
	time.Sleep(200 * time.Millisecond)
	got := e.received()
	for _, k := range fresh.expected() {
		if got[k] != 1 {
			t.Errorf("%s arrived %d times after replay, want 1", k, got[k])
		}
	}
	// While serving, the embedded store is held: the command says what to do.
	held, err := exec.Command(e.bin, "deadletter", "list", "--data-dir", data).CombinedOutput()
	if err == nil || !strings.Contains(string(held), "stop it first") {
		t.Errorf("deadletter list while serving: %v\n%s", err, held)
	}
	if _, err := f.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if out := Run(t, e.bin, "deadletter", "drop", "--all", "--data-dir", data); !strings.Contains(out, "1 dead letter(s) dropped") {
		t.Errorf("drop --all: %s", out)
	}
	if out := Run(t, e.bin, "deadletter", "list", "--data-dir", data); !strings.Contains(out, "0 dead letter(s)") {
		t.Errorf("after drop: %s", out)
	}
	// A dropped delivery stays dropped through replay, unless asked for.
	if out := Run(t, e.bin, "replay", "--since", "1h", "--rules", rulesPath, "--data-dir", data); !strings.Contains(out, ": 0 new deliveries queued") {
		t.Errorf("replay after drop:\n%s", out)
	}
	out = Run(t, e.bin, "replay", "--since", "1h", "--include-dropped", "--dry-run", "--rules", rulesPath, "--data-dir", data)
	if !strings.Contains(out, "would queue "+old.sid+"/every-call/web") || !strings.Contains(out, "1 new deliveries would be queued") {
		t.Errorf("replay --include-dropped --dry-run after drop:\n%s", out)
	}
}
