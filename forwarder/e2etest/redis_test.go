package e2etest

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

// sharedArgs runs an instance on the shared Redis store. The lease is
// short so a dead instance's claims come back within the test.
func sharedArgs(r *redistest.Server) []string {
	return []string{"--redis-url", r.URL(), "--lease", "3s", "--send-timeout", "1s", "--workers", "4"}
}

// postBoth sends the same call to both instances at once and returns the
// statuses they answered ("accepted", "duplicate", or "down").
func (e *env) postBoth(t *testing.T, a, b *Forwarder, c call) []string {
	var mu sync.Mutex
	var out []string
	var wg sync.WaitGroup
	for _, f := range []*Forwarder{a, b} {
		wg.Go(func() {
			code, reply := e.post(t, f, c)
			mu.Lock()
			defer mu.Unlock()
			out = append(out, fmt.Sprintf("%d %v", code, reply["status"]))
		})
	}
	wg.Wait()
	return out
}

// TestTwoInstancesShareRedis runs two forwarders on one Redis and sends
// every webhook to both at once: each call is accepted by exactly one,
// and each (call, destination) reaches Google exactly once.
func TestTwoInstancesShareRedis(t *testing.T) {
	r := redistest.Start(t)
	e := newEnv(t)
	e.emu.SetFaults(emulator.Faults{ErrorRate: 0.1})
	a := e.start(t, nil, sharedArgs(r)...)
	b := e.start(t, nil, sharedArgs(r)...)
	var want []string
	for i := range 150 {
		c := newCall(i, []string{"ANSWERED", "NO ANSWER"}[i%2], 30+i)
		want = append(want, c.expected()...)
		got := e.postBoth(t, a, b, c)
		accepted, dup := 0, 0
		for _, s := range got {
			switch s {
			case "200 accepted":
				accepted++
			case "200 duplicate":
				dup++
			}
		}
		if accepted != 1 || dup != 1 {
			t.Fatalf("call %d: replies %v, want one accepted and one duplicate", i, got)
		}
	}
	Eventually(t, 30*time.Second, "every event arrives", func() bool { return len(e.emu.GA4Events()) >= len(want) })
	time.Sleep(300 * time.Millisecond)
	lost, dup := account(want, e.received())
	t.Logf("two instances, one Redis: %d events, lost=%d duplicated=%d", len(want), len(lost), len(dup))
	if len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
}

// TestKilledInstanceWorkIsTakenOver SIGKILLs an instance while its sends
// hang at Google: the other instance takes its claimed deliveries over
// once their lease ends, and every event arrives exactly once.
func TestKilledInstanceWorkIsTakenOver(t *testing.T) {
	r := redistest.Start(t)
	e := newEnv(t)
	// Google holds every request (and records none) until told otherwise.
	e.emu.SetFaults(emulator.Faults{TimeoutRate: 1, Timeout: 30 * time.Second})
	logs := &Logs{}
	a := e.start(t, logs, sharedArgs(r)...)
	b := e.start(t, nil, sharedArgs(r)...)
	var want []string
	for i := range 40 {
		c := newCall(i, "ANSWERED", 90)
		want = append(want, c.expected()...)
		if got := e.postBoth(t, a, b, c); len(got) != 2 {
			t.Fatalf("call %d: %v", i, got)
		}
	}
	// Once a's first sends have timed out, its workers are back in hanging
	// sends of claimed jobs: kill it there.
	Eventually(t, 10*time.Second, "instance a's sends time out", func() bool { return strings.Contains(logs.String(), "will retry") })
	time.Sleep(200 * time.Millisecond)
	a.Kill()
	e.emu.SetFaults(emulator.Faults{})
	Eventually(t, 30*time.Second, "every event arrives after the lease", func() bool {
		lost, _ := account(want, e.received())
		return len(lost) == 0
	})
	time.Sleep(300 * time.Millisecond)
	lost, dup := account(want, e.received())
	t.Logf("instance killed with sends in flight: %d events, lost=%d duplicated=%d", len(want), len(lost), len(dup))
	if len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
}

// TestRedisOutage stops Redis for 10 s under a steady stream of calls:
// while it is down the forwarder answers 503 and /readyz fails; once it
// is back, the calls answered 503 are sent again by the platform and every
// call is delivered exactly once.
func TestRedisOutage(t *testing.T) {
	r := redistest.Start(t)
	e := newEnv(t)
	f := e.start(t, nil, sharedArgs(r)...)
	var want []string
	var retry []call
	send := func(c call) {
		code, reply := e.post(t, f, c)
		switch {
		case code == http.StatusServiceUnavailable:
			retry = append(retry, c)
		case code == http.StatusOK && (reply["status"] == "accepted" || reply["status"] == "duplicate"):
		default:
			t.Fatalf("call %s: %d %v", c.sid, code, reply)
		}
	}
	i := 0
	next := func() call {
		c := newCall(i, "ANSWERED", 75)
		i++
		want = append(want, c.expected()...)
		return c
	}
	for range 30 {
		send(next())
	}
	r.Stop()
	// Ten seconds without Redis under a steady stream of about ten calls a
	// second.
	down := 0
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); down++ {
		send(next())
		time.Sleep(100 * time.Millisecond)
	}
	res, err := http.Get(f.URL() + "/readyz")
	must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis down: %d, want 503", res.StatusCode)
	}
	if len(retry) != down || down < 20 {
		t.Errorf("%d of the %d calls sent while Redis was down answered 503, want all of them (and at least 20 sent)", len(retry), down)
	}
	r.Restart()
	Eventually(t, 20*time.Second, "ready again", func() bool {
		res, err := http.Get(f.URL() + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	again := retry
	retry = nil
	for _, c := range again {
		send(c)
	}
	if len(retry) > 0 {
		t.Fatalf("%d calls still refused after Redis came back", len(retry))
	}
	for range 30 {
		send(next())
	}
	Eventually(t, 30*time.Second, "every event arrives", func() bool { return len(e.emu.GA4Events()) >= len(want) })
	time.Sleep(300 * time.Millisecond)
	lost, dup := account(want, e.received())
	t.Logf("Redis stopped and restarted: %d events, %d calls re-sent after 503, lost=%d duplicated=%d", len(want), len(again), len(lost), len(dup))
	if len(lost)+len(dup) > 0 {
		t.Errorf("lost=%v duplicated=%v", lost, dup)
	}
}
