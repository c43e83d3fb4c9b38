package e2etest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

// The slow-Google variant's knobs: a lease short next to what claimed
// jobs wait in memory while every send is slow.
const (
	slowLease       = "2s"
	slowSendTimeout = "1s"
	slowWorkers     = "8"
	// slowDelay is added to every answer of Google's.
	slowDelay = 150 * time.Millisecond
	// slowHang is how long a hanging request (timeout or lost reply) is
	// held: past the send timeout.
	slowHang = 3 * time.Second
)

// slowFaults are the slow variant's faults: on top of the delay, 15% 5xx,
// 5% 429, 5% hanging, and 2% of requests processed but their reply lost.
var slowFaults = emulator.Faults{
	ErrorRate: 0.15, RateLimitRate: 0.05, TimeoutRate: 0.05, LostReplyRate: 0.02,
	Timeout: slowHang, Delay: slowDelay,
}

// runSlowGoogle is the fault suite's slow-Google variant, on backend: n
// distinct calls (one in ten re-sent) while every answer of
// Google's is slow and many fail or hang, with a lease short next to the
// time claimed jobs wait for a worker (the claimer holds up to a full
// Google Ads batch per worker). No process is killed, so every extra copy
// of an event must be explained by a lost reply: Google recorded the
// first copy of a GA4 event in a request whose reply never came back (the
// one duplicate window of a live process; Google Ads keeps one copy by
// transaction id). It prints the accounting line
// backend=<backend>-slow-google.
func runSlowGoogle(t *testing.T, backend string, n int) {
	e := newEnv(t)
	e.useExampleRules(t, "")
	e.emu.SetFaults(slowFaults)
	calls := faultCalls(t, n)
	script, dups := faultScript(n)
	p := newPlatform(e.token, calls)
	logs := &Logs{}
	began := time.Now()
	args := append(e.adsArgs(),
		"--workers", slowWorkers, "--send-timeout", slowSendTimeout, "--lease", slowLease,
		"--retry-schedule", faultSchedule)
	if backend == "redis" {
		args = append(args, "--redis-url", redistest.Start(t).URL())
	}
	f := e.start(t, logs, args...)
	u := f.URL()
	p.url.Store(&u)

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	p.run(ctx, script)
	if len(p.failures) > 0 {
		t.Fatalf("%d webhooks never answered 200, e.g. %v", len(p.failures), p.failures[:min(5, len(p.failures))])
	}
	drainLimit := 2*time.Minute + time.Duration(n)*50*time.Millisecond
	deadline := time.Now().Add(drainLimit)
	for {
		pending, dead, err := queueGauges(f)
		if err == nil && pending == 0 {
			if dead > 0 {
				t.Errorf("%v deliveries dead-lettered, want none", dead)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queue did not drain within %v: pending %v (%v)", drainLimit, pending, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// A late copy would show within a lease and a hang.
	time.Sleep(slowHang)
	a := faultAccount(e.emu, faultWant(calls), nil)
	fams, _, err := scrapeMetrics(f)
	must(t, err)
	notSent := sum(fams, "callforward_deliveries_total", map[string]string{"outcome": "lease_lost"})

	fmt.Printf("backend=%s-slow-google calls=%d dups_sent=%d events_expected=%d received=%d lost=%d duplicated=%d"+
		" ga4_reply_lost_events=%d ga4_dup_lost_reply=%d ads_dedup_by_id=%d lease_lost=%v lease=%s send_timeout=%s took=%s\n",
		backend, n, dups, a.expected, a.received, len(a.lost), len(a.duplicated),
		a.ga4ReplyLost, a.ga4LostReply, a.adsDeduped, notSent, slowLease, slowSendTimeout, time.Since(began).Round(time.Second))

	if len(a.lost) > 0 {
		t.Errorf("%d events lost, e.g. %v", len(a.lost), a.lost[:min(10, len(a.lost))])
	}
	if len(a.duplicated) > 0 {
		t.Errorf("%d duplicates not explained by a lost reply, e.g. %v", len(a.duplicated), a.duplicated[:min(10, len(a.duplicated))])
	}
	// Every GA4 event whose reply was lost is sent again: one extra copy
	// each, no more.
	if a.ga4ReplyLost == 0 {
		t.Errorf("no GA4 reply lost: the run did not exercise the window it measures")
	}
	if a.ga4LostReply > a.ga4ReplyLost {
		t.Errorf("%d extra copies after lost replies, more than the %d events whose reply was lost", a.ga4LostReply, a.ga4ReplyLost)
	}
	p.checkReplies(t)
	if _, err := f.Stop(); err != nil {
		t.Errorf("graceful stop after the run: %v", err)
	}
}
