package e2etest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestReloadOnSIGHUP edits the rules of a running forwarder: SIGHUP puts
// a good file in force, and a broken file is refused with its errors
// logged while the previous rules keep working. Watching is off, so only
// the signal can have reloaded.
func TestReloadOnSIGHUP(t *testing.T) {
	e := newEnv(t)
	logs := &Logs{}
	f := e.start(t, logs, "--watch-rules=false")
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

// Two rule sets the load test switches between. Each plans several events
// per call, so that a call planned half under one and half under the
// other would show; they plan different numbers of deliveries, so the
// webhook's reply says which set planned the call.
var reloadSets = map[string]struct {
	rules  string
	events []string
}{
	"a": {reloadRuleSet("a", "alpha_first", "alpha_second"), []string{"alpha_first", "alpha_second"}},
	"b": {reloadRuleSet("b", "beta_first", "beta_second", "beta_third"), []string{"beta_first", "beta_second", "beta_third"}},
}

func reloadRuleSet(set string, events ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# rule set %s\ndestinations:\n  web:\n    type: ga4\n    measurement_id: %s\nrules:\n", set, measurementID)
	for _, ev := range events {
		fmt.Fprintf(&b, "  - name: %s\n    send:\n      - to: web\n        event: %s\n        params:\n          rule_set: %s\n", ev, ev, set)
	}
	return b.String()
}

// reloadPlan is what the load test writes to the rules file, one step a
// second: the rule set in force afterwards ("" for a file that must be
// refused), the content, and whether it is renamed into place (as editors
// and deploy tools do) or written over the old file.
type reloadPlan struct {
	set, content string
	rename       bool
}

func reloadPlans() []reloadPlan {
	a, b := reloadSets["a"].rules, reloadSets["b"].rules
	return []reloadPlan{
		{set: "b", content: b},
		{set: "a", content: a, rename: true},
		// A rule with a type error: refused, set a stays.
		{content: a + "  - name: broken\n    when: {min_duration: sixty}\n    send: [{to: web, event: x}]\n"},
		{set: "b", content: b, rename: true},
		{set: "a", content: a},
		// A file cut off mid-write (its last rule lacks what it sends):
		// refused, set a stays.
		{content: b[:strings.LastIndex(b, "    send:\n")+len("    send:\n")], rename: true},
		{set: "b", content: b},
		{set: "a", content: a, rename: true},
		{set: "b", content: b},
	}
}

// reloadResult is what became of one call under load.
type reloadResult struct {
	accepted   atomic.Int32 // replies "accepted" (must end at exactly 1)
	duplicates atomic.Int32 // replies "duplicate"
	deliveries atomic.Int32 // deliveries planned, from the accepted reply
	start      atomic.Int64 // when the first post of the call began, ns since the load started
}

// TestReloadUnderLoad sends about 1,000 distinct calls a second for 10 s,
// with about one in ten sent again, while the rules file is rewritten
// every second: alternately with one of two rule sets, and twice with a
// file that must be refused. Every call must be accepted exactly once,
// planned under exactly one of the sets (the one in force when it came),
// and get exactly the events of that set, each once; every good file is
// reloaded and every broken one refused, once.
func TestReloadUnderLoad(t *testing.T) {
	const (
		rate     = 1000 // distinct calls a second
		dupEvery = 10   // one request in dupEvery re-sends an earlier call
		loadFor  = 10 * time.Second
		pool     = 64 // concurrent senders
		// A write must be seen (its reload or refusal logged) within this.
		observe = 15 * time.Second
		// Below this the test would not be a load test. Without -race this
		// machine class (2 cores) reaches the full rate; under -race the
		// sending side is slowed to about half, which still counts.
		minRate = 200
	)
	e := newEnv(t)
	rulesPath := filepath.Join(e.dir, "rules.yaml")
	must(t, os.WriteFile(rulesPath, []byte(reloadSets["a"].rules), 0o600))
	logs := &Logs{}
	f := e.start(t, logs, "--workers", "16")
	Eventually(t, 10*time.Second, "the rules file is watched", func() bool {
		if strings.Contains(logs.String(), "polling instead") {
			t.Fatalf("this test needs inotify (the polling fallback checks every 5s):\n%s", logs)
		}
		return strings.Contains(logs.String(), "watching file for changes")
	})

	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: pool, MaxIdleConnsPerHost: pool},
		Timeout:   10 * time.Second,
	}
	t.Cleanup(client.CloseIdleConnections)
	total := rate * int(loadFor/time.Second)
	calls := make([]call, total)
	results := make([]reloadResult, total)
	for i := range calls {
		calls[i] = newCall(i, "ANSWERED", 30+i%90)
	}

	// The rules writer: one step a second while the load runs. Each step
	// waits until the previous one was seen (reloaded or refused), so a
	// slow machine cannot merge two writes into one reload; from the moment
	// a step is seen, the rules it leaves in force must plan every call.
	plans := reloadPlans()
	writes := make([]time.Duration, len(plans)) // when each step was written, since the load started
	seen := make([]time.Duration, len(plans))   // when its reload or refusal was logged
	begin := time.Now()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i, p := range plans {
			time.Sleep(time.Until(begin.Add(time.Duration(i+1) * time.Second)))
			writes[i] = time.Since(begin)
			if err := reloadWrite(rulesPath, p); err != nil {
				t.Errorf("write rules step %d: %v", i+1, err)
				return
			}
			deadline := time.Now().Add(observe)
			for reloadOutcomes(logs.String()) < i+1 {
				if time.Now().After(deadline) {
					t.Errorf("rules step %d (written %v after the load began) was neither reloaded nor refused within %v", i+1, writes[i].Round(time.Millisecond), observe)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
			seen[i] = time.Since(begin)
		}
	}()

	// The senders.
	type job struct {
		i   int
		dup bool
	}
	jobs := make(chan job)
	var failures atomic.Int32
	var sent atomic.Int64
	var wg sync.WaitGroup
	for range pool {
		wg.Go(func() {
			for j := range jobs {
				r := &results[j.i]
				r.start.CompareAndSwap(0, int64(time.Since(begin)))
				code, reply, err := reloadPost(client, f, e.token, calls[j.i])
				sent.Add(1)
				if err != nil || code != http.StatusOK {
					if failures.Add(1) <= 5 {
						t.Errorf("call %d (resent: %v): %d %v %v", j.i, j.dup, code, reply, err)
					}
					continue
				}
				switch reply["status"] {
				case "accepted":
					r.accepted.Add(1)
					n, _ := reply["deliveries"].(float64)
					r.deliveries.Store(int32(n))
				case "duplicate":
					r.duplicates.Add(1)
				default:
					t.Errorf("call %d: reply %v", j.i, reply)
				}
			}
		})
	}
	// The pacer: call n goes out at n/rate, or as soon as a sender is free
	// when the senders cannot keep up; after every dupEvery-1 new calls one
	// of the last few hundred is sent again (some of those are still in
	// flight: the copies race). It stops after loadFor.
	resent := 0
	step := time.Second / rate
	n := 0
	for n < total && time.Since(begin) < loadFor {
		if d := time.Until(begin.Add(time.Duration(n) * step)); d > 0 {
			time.Sleep(d)
		}
		jobs <- job{i: n}
		n++
		if n%(dupEvery-1) == 0 {
			jobs <- job{i: n - 1 - (n*7919)%min(n, 300), dup: true}
			resent++
		}
	}
	close(jobs)
	wg.Wait()
	took := time.Since(begin)
	<-writerDone
	t.Logf("load: %d distinct calls and %d copies in %v: %.0f calls/s, %.0f requests/s (target %d calls/s); %d failed",
		n, resent, took.Round(time.Millisecond), float64(n)/took.Seconds(), float64(sent.Load())/took.Seconds(), rate, failures.Load())
	if rate := float64(n) / took.Seconds(); rate < minRate {
		t.Errorf("%.0f calls/s is too little load for this test (at least %d)", rate, minRate)
	}
	if failures.Load() > 0 {
		t.Fatalf("%d requests failed", failures.Load())
	}
	calls, results = calls[:n], results[:n]

	// Every call accepted once; which set planned it.
	var want []string
	perSet := map[string]int{}
	var dups int32
	for i := range calls {
		r := &results[i]
		dups += r.duplicates.Load()
		if a := r.accepted.Load(); a != 1 {
			t.Errorf("call %d accepted %d times", i, a)
			continue
		}
		set := reloadSetOf(int(r.deliveries.Load()))
		if set == "" {
			t.Errorf("call %d: %d deliveries planned, which neither rule set plans", i, r.deliveries.Load())
			continue
		}
		perSet[set]++
		for _, ev := range reloadSets[set].events {
			want = append(want, calls[i].clientID+"/"+ev)
		}
	}
	if int(dups) != resent {
		t.Errorf("%d duplicate replies for %d copies sent", dups, resent)
	}
	t.Logf("planned: %d calls under set a, %d under set b", perSet["a"], perSet["b"])
	if perSet["a"] == 0 || perSet["b"] == 0 {
		t.Errorf("the load did not see both rule sets: %v", perSet)
	}

	// The rules in force followed the file: before the first write set a;
	// from when each step was seen until the next write, the set that step
	// leaves in force (the previous one after a refused file).
	inForce := "a"
	var wrong []string
	for s := -1; s < len(plans); s++ {
		from, to := time.Duration(0), took
		if s >= 0 {
			t.Logf("rules step %d: written at %v, seen %v later", s+1, writes[s].Round(time.Millisecond), (seen[s] - writes[s]).Round(time.Millisecond))
			from = seen[s]
			if plans[s].set != "" {
				inForce = plans[s].set
			}
		}
		if s+1 < len(plans) {
			to = min(to, writes[s+1])
		}
		if from >= to {
			continue // the load ended before this step was seen
		}
		checked := 0
		for i := range calls {
			at := time.Duration(results[i].start.Load())
			if at < from || at >= to {
				continue
			}
			checked++
			if got := reloadSetOf(int(results[i].deliveries.Load())); got != inForce && len(wrong) < 10 {
				wrong = append(wrong, fmt.Sprintf("call %d sent %v after the load began was planned under set %q, want %q (step %d)", i, at.Round(time.Millisecond), got, inForce, s+1))
			}
		}
		if checked == 0 && to-from >= 200*time.Millisecond {
			t.Errorf("no call was sent between %v and %v (step %d)", from, to, s+1)
		}
	}
	for _, w := range wrong {
		t.Error(w)
	}

	// The emulator got exactly the planned events, each once, none mixed.
	drain := time.Now()
	Eventually(t, 30*time.Second, fmt.Sprintf("%d events delivered", len(want)), func() bool {
		time.Sleep(100 * time.Millisecond)
		return len(e.emu.GA4Events()) >= len(want)
	})
	t.Logf("delivery finished %v after the load", time.Since(drain).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond) // let any extra send arrive
	events := e.emu.GA4Events()
	got := map[string]int{}
	setsOf := map[string]map[string]bool{} // client id → rule sets seen in its events
	for _, ev := range events {
		got[ev.ClientID+"/"+ev.Name]++
		set, _ := ev.Params["rule_set"].(string)
		if setsOf[ev.ClientID] == nil {
			setsOf[ev.ClientID] = map[string]bool{}
		}
		setsOf[ev.ClientID][set] = true
	}
	lost, duplicated := account(want, got)
	t.Logf("events: want %d, received %d; lost=%d duplicated=%d; dropped by GA4: %d", len(want), len(events), len(lost), len(duplicated), len(e.emu.GA4Dropped()))
	if len(lost) > 0 || len(duplicated) > 0 {
		t.Errorf("lost=%d %v\nduplicated=%d %v", len(lost), reloadFirst(lost), len(duplicated), reloadFirst(duplicated))
	}
	for id, sets := range setsOf {
		if len(sets) != 1 {
			t.Errorf("client %s got events of rule sets %v: one call planned under two sets", id, sets)
			break
		}
	}
	if d := e.emu.GA4Dropped(); len(d) > 0 {
		t.Errorf("%d events would have been dropped by GA4, e.g. %+v", len(d), d[0])
	}

	// Each good file reloaded once, each broken one refused once.
	var good, bad int
	for _, p := range plans {
		if p.set != "" {
			good++
		} else {
			bad++
		}
	}
	metrics := reloadScrape(t, f)
	for result, want := range map[string]int{"ok": good, "refused": bad} {
		series := fmt.Sprintf(`callforward_rules_reloads_total{result=%q} %d`, result, want)
		if !strings.Contains(metrics, series+"\n") {
			t.Errorf("metrics lack %s:\n%s", series, reloadGrep(metrics, "callforward_rules_reloads_total"))
		}
	}
	s := logs.String()
	if n := strings.Count(s, `"msg":"rules reloaded"`); n != good {
		t.Errorf("%d reloads logged, want %d", n, good)
	}
	if n := strings.Count(s, `"msg":"rules reload refused; the previous rules stay in force"`); n != bad {
		t.Errorf("%d refusals logged, want %d", n, bad)
	}
	if !strings.Contains(s, "rules.yaml:") {
		t.Error("no refusal names the file and line")
	}
	e.assertNoPersonalData(t, logs, calls[:100])
}

// TestReloadWatchOff: with --watch-rules=false a changed file waits for
// SIGHUP.
func TestReloadWatchOff(t *testing.T) {
	e := newEnv(t)
	rulesPath := filepath.Join(e.dir, "rules.yaml")
	must(t, os.WriteFile(rulesPath, []byte(reloadSets["a"].rules), 0o600))
	logs := &Logs{}
	f := e.start(t, logs, "--watch-rules=false")
	must(t, os.WriteFile(rulesPath, []byte(reloadSets["b"].rules), 0o600))
	time.Sleep(time.Second)
	planned := func(i int) string {
		code, reply := e.post(t, f, newCall(i, "ANSWERED", 30))
		n, _ := reply["deliveries"].(float64)
		if code != http.StatusOK || reply["status"] != "accepted" {
			t.Fatalf("call %d: %d %v", i, code, reply)
		}
		return reloadSetOf(int(n))
	}
	if got := planned(1); got != "a" {
		t.Fatalf("without watching, a changed file was loaded: set %q planned the call, want a", got)
	}
	if strings.Contains(logs.String(), "watching file") {
		t.Errorf("the rules file is watched with --watch-rules=false")
	}
	must(t, f.Signal(syscall.SIGHUP))
	Eventually(t, 10*time.Second, "reload logged", func() bool { return strings.Contains(logs.String(), "rules reloaded") })
	if got := planned(2); got != "b" {
		t.Fatalf("after SIGHUP: set %q planned the call, want b", got)
	}
}

// reloadSetOf names the rule set that plans n deliveries.
func reloadSetOf(n int) string {
	for name, s := range reloadSets {
		if len(s.events) == n {
			return name
		}
	}
	return ""
}

// reloadWrite puts p in the rules file at path.
func reloadWrite(path string, p reloadPlan) error {
	if !p.rename {
		return os.WriteFile(path, []byte(p.content), 0o600)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(p.content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// reloadPost posts c with client (which keeps connections for the pool).
func reloadPost(client *http.Client, f *Forwarder, token string, c call) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, f.URL()+"/webhooks/fonedynamics", strings.NewReader(c.form().Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return res.StatusCode, nil, fmt.Errorf("decode reply: %w", err)
	}
	return res.StatusCode, body, nil
}

// reloadScrape returns the forwarder's /metrics page.
func reloadScrape(t *testing.T, f *Forwarder) string {
	t.Helper()
	res, err := http.Get(f.URL() + "/metrics")
	must(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(t, err)
	return string(b)
}

// reloadGrep returns the lines of s that contain needle.
func reloadGrep(s, needle string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, needle) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// reloadFirst returns up to 10 of l, for messages.
func reloadFirst(l []string) []string { return l[:min(len(l), 10)] }

// reloadOutcomes counts the reloads and refusals logged so far.
func reloadOutcomes(logs string) int {
	return strings.Count(logs, `"msg":"rules reloaded"`) +
		strings.Count(logs, `"msg":"rules reload refused; the previous rules stay in force"`)
}
