package e2etest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/callforward/callforward/examples"
	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/failpoint"
	"github.com/callforward/callforward/forwarder/store/redistest"
	"github.com/callforward/callforward/forwarder/webhook"
	"github.com/callforward/callforward/mapping"
)

// faultCallCount is the size of TestFaultSuite's load: 2,000 distinct
// calls by default (each backend well within a minute and a half on a
// 2-core machine), 10,000 in the long form.
var faultCallCount = flag.Int("fault.calls", 2000, "distinct calls TestFaultSuite sends per backend (long form: 10000)")

// The fault suite's knobs.
const (
	// faultRate is the webhooks per second the scripted platform sends.
	faultRate = 200
	// faultSenders bounds the webhooks in flight at once.
	faultSenders = 64
	// faultResendWait is how long the platform waits before sending again
	// a webhook it got no 200 for.
	faultResendWait = 50 * time.Millisecond
	// faultRedisOutage is how long Redis is down on the Redis backend.
	faultRedisOutage = 2 * time.Second
	// faultKillWindow bounds the time between Google recording an event
	// and the SIGKILL of the process that sent it, for a second copy of
	// the event to count as caused by that kill (the send was accepted,
	// its outcome not yet recorded).
	faultKillWindow = 2 * time.Second
	// faultSchedule is the retry schedule: 20 short waits, so a delivery
	// that meets 30% faults at every try is dead-lettered with a
	// probability of 0.3^21, never in practice.
	faultSchedule = "20ms,40ms,80ms,160ms,320ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms"
)

// faultCall is one call of the scripted load and what the rules in force
// say must come of it.
type faultCall struct {
	sid  string
	body string   // the urlencoded form the platform posts
	ga4  []string // each GA4 event planned, as "clientID/name"
	ads  []string // the transaction id of each Google Ads conversion planned
}

// faultCalls makes n distinct calls from the sample answered call with a
// GCLID, varied so that every rule of the example rules comes into play:
// answered, missed and busy calls, short and long ones, with and without
// a GA client id, a GCLID, a survey value; some match no rule at all.
// The expected events come from the example rules themselves.
func faultCalls(t *testing.T, n int) []faultCall {
	t.Helper()
	sample, err := examples.FS.ReadFile("webhooks/answered-with-gclid.form")
	must(t, err)
	base, err := url.ParseQuery(strings.TrimSpace(string(sample)))
	must(t, err)
	src, err := examples.FS.ReadFile("rules.yaml")
	must(t, err)
	rules, err := mapping.Parse("rules.yaml", src)
	must(t, err)
	start := examples.StartDate(time.Now().Add(-10 * time.Minute))
	dispositions := []string{"ANSWERED", "ANSWERED", "ANSWERED", "NO ANSWER", "BUSY"}
	calls := make([]faultCall, n)
	for i := range n {
		q := maps.Clone(base)
		q.Set("Call.Sid", fmt.Sprintf("CAfault%08d", i))
		q.Set("Call.StartDate", start)
		q.Set("Call.From", fmt.Sprintf("+614%08d", i))
		q.Set("Call.Disposition", dispositions[i%len(dispositions)])
		q.Set("Call.Duration", fmt.Sprint((i*37)%200))
		q.Set("Google.Analytics.ClientId", fmt.Sprintf("%d.1764110000", 1000000000+i))
		q.Set("Google.AdWords.ClickId", fmt.Sprintf("gclid-fault-%08d", i))
		if i%7 == 3 {
			q.Del("Google.Analytics.ClientId")
		}
		if i%3 == 2 {
			q.Del("Google.AdWords.ClickId")
		}
		if i%11 == 5 {
			q.Set("Call.Survey.Value", fmt.Sprint(100+i%400))
			q.Set("Call.Survey.Type", "New booking")
		}
		body := q.Encode()
		params, err := webhook.Params(http.MethodPost, "application/x-www-form-urlencoded", "", []byte(body))
		must(t, err)
		call, err := webhook.Decode(params)
		must(t, err)
		c := faultCall{sid: call.Sid, body: body}
		for _, d := range rules.Evaluate(call) {
			switch d.Type {
			case forwarder.DestinationGA4:
				c.ga4 = append(c.ga4, d.GA4.ClientID+"/"+d.GA4.Name)
			case forwarder.DestinationGoogleAds:
				c.ads = append(c.ads, d.Ads.TransactionID)
			default:
				t.Fatalf("the example rules plan a %s delivery; the fault suite counts GA4 and Google Ads only", d.Type)
			}
		}
		calls[i] = c
	}
	return calls
}

// faultSend is one webhook of the platform's script: a call, sent twice
// at the same moment when pair is set.
type faultSend struct {
	call int
	pair bool
}

// faultScript sends every call once, and re-sends one call in ten: half
// of those at the same moment as the first copy, half about 150 calls
// later. It returns the script and the number of copies re-sent.
func faultScript(n int) (script []faultSend, dups int) {
	later := map[int][]int{} // position → calls re-sent there
	for i := range n {
		s := faultSend{call: i}
		switch i % 20 {
		case 0:
			s.pair = true
			dups++
		case 10:
			later[min(i+150, n-1)] = append(later[min(i+150, n-1)], i)
			dups++
		}
		script = append(script, s)
		for _, c := range later[i] {
			script = append(script, faultSend{call: c})
		}
	}
	return script, dups
}

// platform is the scripted webhook sender: it posts each webhook to the
// forwarder that runs now, and posts it again after a short wait when it
// got no 200 (a 503, or no reply because the process died), as the real
// platform does.
type platform struct {
	token  string
	calls  []faultCall
	client *http.Client
	url    atomic.Pointer[string]

	posted  atomic.Int64 // webhooks of the script answered 200
	resends atomic.Int64 // posts sent again after no 200

	mu       sync.Mutex
	statuses map[string][]string // Call.Sid → statuses of its 200 replies
	failures []string
}

func newPlatform(token string, calls []faultCall) *platform {
	return &platform{
		token: token, calls: calls, statuses: map[string][]string{},
		client: &http.Client{Timeout: 10 * time.Second},
	}
}

// run sends the script at faultRate until it is done or ctx ends.
func (p *platform) run(ctx context.Context, script []faultSend) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, faultSenders)
	tick := time.NewTicker(time.Second / faultRate)
	defer tick.Stop()
	for _, s := range script {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		copies := 1
		if s.pair {
			copies = 2
		}
		for range copies {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				p.send(ctx, p.calls[s.call])
			})
		}
	}
}

// send posts c until it is answered 200 or ctx ends.
func (p *platform) send(ctx context.Context, c faultCall) {
	for {
		status, err := p.post(ctx, c)
		if err == nil {
			p.mu.Lock()
			p.statuses[c.sid] = append(p.statuses[c.sid], status)
			p.mu.Unlock()
			p.posted.Add(1)
			return
		}
		if ctx.Err() != nil {
			p.mu.Lock()
			p.failures = append(p.failures, fmt.Sprintf("%s: never answered 200, last: %v", c.sid, err))
			p.mu.Unlock()
			return
		}
		p.resends.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(faultResendWait):
		}
	}
}

// post sends c once and returns the reply's status when it is a 200.
func (p *platform) post(ctx context.Context, c faultCall) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *p.url.Load()+"/webhooks/fonedynamics", strings.NewReader(c.body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+p.token)
	res, err := p.client.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%d %s", res.StatusCode, raw)
	}
	var reply struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return "", fmt.Errorf("reply %q: %w", raw, err)
	}
	return reply.Status, nil
}

// faultKill is one SIGKILL at a failpoint: when the killed process
// started and when it was found dead.
type faultKill struct {
	failpoint   string
	started, at time.Time
}

// TestFaultSuite is the scripted fault run of the README's guarantees, on
// each backend: a paced load of distinct calls (-fault.calls) with one in
// ten re-sent, some at the same moment as the first copy, under the
// example rules (GA4 events and Google Ads conversions, these batched),
// while Google answers 20% 5xx, 5% 429 with Retry-After and 5% timeouts.
// Meanwhile the forwarder is killed with SIGKILL at each failpoint in
// turn (after the store accepted a call and before its reply; after
// Google accepted a send and before its outcome was recorded; in the
// middle of recording a batch's outcomes) and restarted on the same
// store, and on the Redis backend Redis is stopped and started again.
// The platform re-sends every webhook it got no 200 for.
//
// At the end every call must have been answered 200 and accepted at
// most once, every event the rules plan must have reached Google, none
// may be dead-lettered, and a second copy of a GA4 event is allowed only
// when Google recorded the first one just before a SIGKILL (the window
// between a send and its commit); Google Ads conversions re-sent there
// must carry the same transaction id, so that Google keeps one. It prints
// one accounting line per backend. The slow_google runs (runSlowGoogle)
// keep the process alive under a short lease and a slow, failing Google
// that also loses replies, on each backend.
func TestFaultSuite(t *testing.T) {
	for _, backend := range []string{"bolt", "redis"} {
		t.Run(backend, func(t *testing.T) { runFaultSuite(t, backend, *faultCallCount) })
	}
	for _, backend := range []string{"bolt", "redis"} {
		t.Run(backend+"_slow_google", func(t *testing.T) { runSlowGoogle(t, backend, *faultCallCount/5) })
	}
}

func runFaultSuite(t *testing.T, backend string, n int) {
	e := newEnv(t)
	e.useExampleRules(t, "")
	args := append(e.adsArgs(),
		"--workers", "32", "--send-timeout", "1s", "--lease", "3s", "--retry-schedule", faultSchedule)
	var r *redistest.Server
	if backend == "redis" {
		r = redistest.Start(t)
		args = append(args, "--redis-url", r.URL())
	}
	e.emu.SetFaults(emulator.Faults{ErrorRate: 0.20, RateLimitRate: 0.05, TimeoutRate: 0.05, Timeout: 2 * time.Second})

	calls := faultCalls(t, n)
	script, dups := faultScript(n)
	webhooks := int64(n + dups) // every copy the platform sends
	p := newPlatform(e.token, calls)
	logs := &Logs{}
	phases := []struct {
		failpoint string
		hit       int
	}{
		{failpoint.AfterAcceptBeforeReply, n / 10},
		{failpoint.AfterSendBeforeCommit + "/" + forwarder.DestinationGA4, n / 10},
		{failpoint.AfterSendBeforeCommit + "/" + forwarder.DestinationGoogleAds, 2},
		{failpoint.MidBatch + "/" + forwarder.DestinationGoogleAds, max(3, n/100)},
	}
	spec := func(i int) string {
		if i >= len(phases) {
			return ""
		}
		return fmt.Sprintf("%s=%d", phases[i].failpoint, phases[i].hit)
	}
	failpointBinary(t) // built before the clock of the run starts
	began := time.Now()
	started := time.Now()
	f := e.startArmed(t, logs, spec(0), args...)
	u := f.URL()
	p.url.Store(&u)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		p.run(ctx, script)
	}()

	// Each armed failpoint fires; the forwarder is started again on the
	// same store with the next one armed.
	var kills []faultKill
	for i, ph := range phases {
		exit, ended := f.waitExit(2 * time.Minute)
		if !ended {
			t.Fatalf("failpoint %s=%d did not fire within 2 minutes (%d of %d webhooks answered)", ph.failpoint, ph.hit, p.posted.Load(), webhooks)
		}
		if !killedBySIGKILL(exit) {
			t.Fatalf("forwarder armed with %s ended with %v, want SIGKILL\n%s", spec(i), exit, tail(logs.String(), 40))
		}
		if want := fmt.Sprintf("failpoint %s: hit %d: SIGKILL", ph.failpoint, ph.hit); !strings.Contains(logs.String(), want) {
			t.Fatalf("forwarder killed but its logs do not say %q", want)
		}
		kills = append(kills, faultKill{failpoint: ph.failpoint, started: started, at: time.Now()})
		t.Logf("%s: killed at %s=%d, %v after the start, %d of %d webhooks answered", time.Since(began).Round(time.Millisecond), ph.failpoint, ph.hit, time.Since(started).Round(time.Millisecond), p.posted.Load(), webhooks)
		started = time.Now()
		f = e.startArmed(t, logs, spec(i+1), args...)
		u := f.URL()
		p.url.Store(&u)
	}

	outage := "none"
	if r != nil {
		// Redis goes down mid-load: webhooks get 503 and are sent again,
		// deliveries wait for their outcomes to be recorded.
	mid:
		for p.posted.Load() < webhooks*6/10 {
			select {
			case <-loadDone:
				break mid
			case <-ctx.Done():
				break mid
			case <-time.After(10 * time.Millisecond):
			}
		}
		r.Stop()
		outage = fmt.Sprintf("%s_at_%d_of_%d_webhooks", faultRedisOutage, p.posted.Load(), webhooks)
		if code, reason := readyz(f); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz with Redis down: %d %s, want 503", code, reason)
		}
		time.Sleep(faultRedisOutage)
		r.Restart()
	}

	select {
	case <-loadDone:
	case <-ctx.Done():
		t.Fatalf("the load did not finish: %d of %d webhooks answered 200", p.posted.Load(), webhooks)
	}
	t.Logf("%s: load done", time.Since(began).Round(time.Millisecond))
	if len(p.failures) > 0 {
		t.Fatalf("%d webhooks never answered 200, e.g. %v", len(p.failures), p.failures[:min(5, len(p.failures))])
	}

	// Wait until the queue is empty: every delivery settled.
	drainLimit := time.Minute + time.Duration(n)*10*time.Millisecond
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
			t.Errorf("the queue did not drain within %v: pending %v (%v)", drainLimit, pending, err)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%s: queue drained", time.Since(began).Round(time.Millisecond))
	time.Sleep(1500 * time.Millisecond) // a late extra copy, or a batch, would show by now
	a := faultAccount(e.emu, faultWant(calls), kills)

	fmt.Printf("backend=%s calls=%d dups_sent=%d events_expected=%d received=%d lost=%d duplicated=%d duplicated_at_failpoint=%d"+
		" ga4_dup_at_failpoint=%d ads_dedup_by_id=%d kills=%d redis_outage=%s platform_resends=%d took=%s\n",
		backend, n, dups, a.expected, a.received, len(a.lost), len(a.duplicated), a.ga4AtFailpoint+a.adsDeduped,
		a.ga4AtFailpoint, a.adsDeduped, len(kills), outage, p.resends.Load(), time.Since(began).Round(time.Second))

	if len(a.lost) > 0 {
		t.Errorf("%d events lost, e.g. %v", len(a.lost), a.lost[:min(10, len(a.lost))])
	}
	if len(a.duplicated) > 0 {
		t.Errorf("%d duplicates not explained by a SIGKILL between a send and its commit, e.g. %v", len(a.duplicated), a.duplicated[:min(10, len(a.duplicated))])
	}
	// A kill after Google accepted a send re-sends it: GA4 records it
	// twice, Google Ads keeps one by its transaction id.
	if a.ga4AtFailpoint == 0 {
		t.Errorf("no GA4 event recorded twice, yet the forwarder was killed after GA4 accepted a send")
	}
	if a.adsDeduped == 0 {
		t.Errorf("no Google Ads conversion re-sent with its transaction id, yet the forwarder was killed after Google Ads accepted a batch")
	}
	if dropped := e.emu.GA4Dropped(); len(dropped) > 0 {
		t.Errorf("Google dropped %d GA4 events the forwarder sent, e.g. %+v", len(dropped), dropped[0].Messages)
	}
	p.checkReplies(t)
	if _, err := f.Stop(); err != nil {
		t.Errorf("graceful stop after the run: %v", err)
	}
}

// checkReplies: every call was answered 200, and accepted (or ignored)
// at most once, whatever the copies and the restarts.
func (p *platform) checkReplies(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.calls {
		got := p.statuses[c.sid]
		if len(got) == 0 {
			t.Errorf("%s: never answered 200", c.sid)
			continue
		}
		first := 0
		for _, s := range got {
			switch s {
			case "accepted", "ignored":
				first++
			case "duplicate":
			default:
				t.Errorf("%s: status %q", c.sid, s)
			}
		}
		if first > 1 {
			t.Errorf("%s: answered %v: stored more than once", c.sid, got)
		}
	}
}

// faultWant lists the events the rules plan for calls: GA4 events as
// "ga4 clientID/name", Google Ads conversions as "ads transactionID".
func faultWant(calls []faultCall) []string {
	var want []string
	for _, c := range calls {
		for _, k := range c.ga4 {
			want = append(want, "ga4 "+k)
		}
		for _, k := range c.ads {
			want = append(want, "ads "+k)
		}
	}
	return want
}

// faultAccounting compares what the rules planned with what Google
// recorded.
type faultAccounting struct {
	expected, received int
	lost               []string
	// duplicated are extra copies that no SIGKILL explains, and events
	// nothing planned.
	duplicated []string
	// ga4AtFailpoint counts the extra GA4 copies whose first copy Google
	// recorded just before a SIGKILL; ga4LostReply those whose first copy
	// Google recorded in a request whose reply was lost; adsDeduped the
	// Google Ads conversions sent again with the same transaction id,
	// which Google kept once.
	ga4AtFailpoint, ga4LostReply, adsDeduped int
	// ga4ReplyLost counts the GA4 events Google kept from requests whose
	// reply was lost.
	ga4ReplyLost int
}

func faultAccount(emu *emulator.Server, want []string, kills []faultKill) faultAccounting {
	times := map[string][]time.Time{}
	lostReply := map[string]map[time.Time]bool{} // GA4 copies whose reply was lost
	a := faultAccounting{expected: len(want), adsDeduped: emu.DataManagerDuplicates()}
	for _, ev := range emu.GA4Events() {
		k := "ga4 " + ev.ClientID + "/" + ev.Name
		times[k] = append(times[k], ev.ReceivedAt)
		a.received++
		if ev.ReplyLost {
			a.ga4ReplyLost++
			if lostReply[k] == nil {
				lostReply[k] = map[time.Time]bool{}
			}
			lostReply[k][ev.ReceivedAt] = true
		}
	}
	for _, ev := range emu.DataManagerEvents() {
		k := "ads " + ev.TransactionID
		times[k] = append(times[k], ev.ReceivedAt)
		a.received++
	}
	planned := map[string]bool{}
	for _, k := range want {
		planned[k] = true
		ts := times[k]
		if len(ts) == 0 {
			a.lost = append(a.lost, k)
			continue
		}
		slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
		for _, at := range ts[:len(ts)-1] {
			if strings.HasPrefix(k, "ga4 ") && lostReply[k][at] {
				a.ga4LostReply++
				continue
			}
			if strings.HasPrefix(k, "ga4 ") && killedSoonAfter(kills, at) {
				a.ga4AtFailpoint++
				continue
			}
			a.duplicated = append(a.duplicated, fmt.Sprintf("%s (copy recorded %s)", k, at.Format(time.StampMilli)))
		}
	}
	for k, ts := range times {
		if !planned[k] {
			a.duplicated = append(a.duplicated, fmt.Sprintf("%s ×%d (not planned)", k, len(ts)))
		}
	}
	return a
}

// killedSoonAfter reports whether a process that was running at t was
// killed at a failpoint within faultKillWindow after t.
func killedSoonAfter(kills []faultKill, t time.Time) bool {
	for _, k := range kills {
		if !t.Before(k.started) && !t.After(k.at) && k.at.Sub(t) <= faultKillWindow {
			return true
		}
	}
	return false
}

// queueGauges scrapes the pending and dead-letter gauges of f.
func queueGauges(f *Forwarder) (pending, dead float64, err error) {
	res, err := http.Get(f.URL() + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		return 0, 0, err
	}
	if _, ok := fams["callforward_queue_pending"]; !ok {
		return 0, 0, fmt.Errorf("no callforward_queue_pending in /metrics")
	}
	return sum(fams, "callforward_queue_pending", nil), sum(fams, "callforward_dead_letters", nil), nil
}

// readyz returns /readyz's status code and body.
func readyz(f *Forwarder) (int, string) {
	res, err := http.Get(f.URL() + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
