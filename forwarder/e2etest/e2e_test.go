package e2etest

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/examples"
	"github.com/callforward/callforward/forwarder/emulator"
)

// TestSamples sends every sample webhook (GET, form and JSON) once, then
// again: the first copy yields exactly the GA4 events the rules say, the
// second yields "duplicate" and nothing more.
func TestSamples(t *testing.T) {
	e := newEnv(t)
	logs := &Logs{}
	f := e.start(t, logs)
	want := map[string]struct {
		status string
		events []string
	}{
		"answered-with-gclid.form": {"accepted", []string{"1873452911.1764110422/phone_call", "1873452911.1764110422/qualified_call"}},
		"no-answer.query":          {"accepted", []string{"402918377.1764118200/phone_call"}},
		"survey-flat.json":         {"accepted", []string{"555444333.1764127000/phone_call", "555444333.1764127000/qualified_call"}},
		"anonymous-static.form":    {"ignored", nil}, // no GA client id: nothing GA4 can attribute
		"initiate.form":            {"ignored", nil}, // rules match Call.Complete unless they say otherwise
	}
	names, err := fs.Glob(examples.FS, "webhooks/*")
	must(t, err)
	var allEvents []string
	start := examples.StartDate(time.Now().Add(-10 * time.Minute))
	for round, wantDup := range []bool{false, true} {
		for _, name := range names {
			base := path.Base(name)
			w, ok := want[base]
			if !ok {
				t.Fatalf("no expectation for sample %s", base)
			}
			body, err := examples.FS.ReadFile(name)
			must(t, err)
			body, err = examples.Set(base, body, map[string]string{"Call.StartDate": start})
			must(t, err)
			req, err := examples.NewRequest(context.Background(), f.URL()+"/webhooks/fonedynamics", e.token, base, body)
			must(t, err)
			status, reply, err := Post(context.Background(), req)
			must(t, err)
			wantStatus := w.status
			if wantDup {
				wantStatus = "duplicate"
			}
			if status != http.StatusOK || reply["status"] != wantStatus {
				t.Errorf("round %d %s: %d %v, want 200 %s", round, base, status, reply, wantStatus)
			}
			if !wantDup {
				allEvents = append(allEvents, w.events...)
			}
		}
	}
	Eventually(t, 10*time.Second, "sample events arrive", func() bool { return len(e.emu.GA4Events()) >= len(allEvents) })
	time.Sleep(200 * time.Millisecond) // a late duplicate would show now
	lost, dup := account(allEvents, e.received())
	if len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
	if d := e.emu.GA4Dropped(); len(d) > 0 {
		t.Errorf("GA4 would have dropped: %+v", d)
	}
	for _, ev := range e.emu.GA4Events() {
		if ev.MeasurementID != measurementID || ev.APISecret != "e2e-secret" {
			t.Errorf("event sent to %s with secret %q", ev.MeasurementID, ev.APISecret)
		}
	}
	e.assertNoPersonalData(t, logs, []call{{phone: "+61412345678", clientID: "1873452911.1764110422"}, {phone: "+61455667788", clientID: "555444333.1764127000"}})
}

// TestConcurrentCopies sends 20 copies of one new call at once: one is
// accepted, the rest are duplicates, and Google gets each event once.
func TestConcurrentCopies(t *testing.T) {
	e := newEnv(t)
	f := e.start(t, nil)
	c := newCall(1, "ANSWERED", 95)
	var mu sync.Mutex
	statuses := map[string]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			code, reply := e.post(t, f, c)
			mu.Lock()
			defer mu.Unlock()
			statuses[fmt.Sprintf("%d %v", code, reply["status"])]++
		})
	}
	wg.Wait()
	if statuses["200 accepted"] != 1 || statuses["200 duplicate"] != 19 {
		t.Fatalf("replies %v, want 1 accepted and 19 duplicate", statuses)
	}
	Eventually(t, 10*time.Second, "events arrive", func() bool { return len(e.emu.GA4Events()) >= 2 })
	time.Sleep(200 * time.Millisecond)
	if lost, dup := account(c.expected(), e.received()); len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
}

// TestKillRestart acknowledges calls while Google is down, SIGKILLs the
// forwarder, and restarts it on the same data dir once Google is back:
// every acknowledged call is delivered exactly once.
func TestKillRestart(t *testing.T) {
	e := newEnv(t)
	e.emu.SetFaults(emulator.Faults{ErrorRate: 1})
	logs := &Logs{}
	f := e.start(t, logs)
	var calls []call
	var want []string
	for i := range 60 {
		c := newCall(i, []string{"ANSWERED", "NO ANSWER", "BUSY"}[i%3], 30+i*2)
		if code, reply := e.post(t, f, c); code != http.StatusOK || reply["status"] != "accepted" {
			t.Fatalf("call %d: %d %v", i, code, reply)
		}
		calls = append(calls, c)
		want = append(want, c.expected()...)
	}
	f.Kill()
	if n := len(e.emu.GA4Events()); n != 0 {
		t.Fatalf("%d events recorded while Google was failing every request", n)
	}
	e.emu.SetFaults(emulator.Faults{})
	e.start(t, logs)
	Eventually(t, 20*time.Second, "every acknowledged call arrives", func() bool { return len(e.emu.GA4Events()) >= len(want) })
	time.Sleep(300 * time.Millisecond)
	lost, dup := account(want, e.received())
	t.Logf("after SIGKILL and restart: %d expected events, lost=%d duplicated=%d", len(want), len(lost), len(dup))
	if len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
	e.assertNoPersonalData(t, logs, calls)
}

// TestKillDuringDelivery SIGKILLs the forwarder while it is delivering.
// Nothing acknowledged may be lost. A send that Google recorded but the
// forwarder had not yet marked done is sent again after the restart: that
// window is the only source of duplicates, bounded by the number of sends
// in flight (the worker count, each a GA4 request with one call's events).
func TestKillDuringDelivery(t *testing.T) {
	e := newEnv(t)
	e.emu.SetFaults(emulator.Faults{Delay: 2 * time.Millisecond})
	logs := &Logs{}
	const workers = 4
	f := e.start(t, logs, "--workers", fmt.Sprint(workers))
	var want []string
	for i := range 150 {
		c := newCall(i, "ANSWERED", 61+i)
		if code, reply := e.post(t, f, c); code != http.StatusOK || reply["status"] != "accepted" {
			t.Fatalf("call %d: %d %v", i, code, reply)
		}
		want = append(want, c.expected()...)
	}
	f.Kill()
	before := len(e.emu.GA4Events())
	e.start(t, logs, "--workers", fmt.Sprint(workers))
	Eventually(t, 20*time.Second, "every acknowledged call arrives", func() bool {
		lost, _ := account(want, e.received())
		return len(lost) == 0
	})
	time.Sleep(300 * time.Millisecond)
	lost, dup := account(want, e.received())
	sort.Strings(dup)
	t.Logf("killed after %d of %d events were recorded; lost=%d, re-sent in the send→commit window=%d", before, len(want), len(lost), len(dup))
	if len(lost) > 0 {
		t.Errorf("lost %v", lost)
	}
	// A GA4 request carries the events of one client id (a call's two
	// events here), so the sends in flight are at most workers requests.
	requests := map[string]bool{}
	for _, d := range dup {
		client, _, _ := strings.Cut(d, "/")
		requests[client] = true
	}
	if len(requests) > workers {
		t.Errorf("duplicated the events of %d calls (%v), want at most %d (one request in flight per worker)", len(requests), dup, workers)
	}
}

// TestFaultyGoogle delivers through an emulator that fails 20% of
// requests with 5xx and 10% with 429 + Retry-After: every qualifying call
// still arrives exactly once.
func TestFaultyGoogle(t *testing.T) {
	e := newEnv(t)
	e.emu.SetFaults(emulator.Faults{ErrorRate: 0.2, RateLimitRate: 0.1})
	logs := &Logs{}
	f := e.start(t, logs)
	var calls []call
	var want []string
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 300 {
		c := newCall(i, []string{"ANSWERED", "NO ANSWER"}[i%2], 20+i)
		calls = append(calls, c)
		want = append(want, c.expected()...)
		wg.Go(func() {
			code, reply := e.post(t, f, c)
			if code != http.StatusOK || reply["status"] != "accepted" {
				mu.Lock()
				t.Errorf("call %s: %d %v", c.sid, code, reply)
				mu.Unlock()
			}
		})
		if i%16 == 15 {
			wg.Wait()
		}
	}
	wg.Wait()
	Eventually(t, 60*time.Second, "every call arrives despite faults", func() bool { return len(e.emu.GA4Events()) >= len(want) })
	time.Sleep(300 * time.Millisecond)
	lost, dup := account(want, e.received())
	t.Logf("%d events through 30%% failing Google: lost=%d duplicated=%d", len(want), len(lost), len(dup))
	if len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
	e.assertNoPersonalData(t, logs, calls)
}
