package e2etest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

// The processing schedule of these tests: Google "processes" a request
// for procDelay; the forwarder first asks procFirst after the send, then
// every procFirst (the backoff capped there).
const (
	procDelay = 4 * time.Second
	procFirst = 3 * time.Second
	procCalls = 100
)

// processingCall is one call of the processing tests: its identifiers
// and the outcome Google gives its conversion.
type processingCall struct {
	sid, phone, clientID, gclid string
	want                        string // the Google Ads delivery's outcome
}

func processingCalls() []processingCall {
	var out []processingCall
	for i := range procCalls {
		c := processingCall{
			sid:      fmt.Sprintf("CAproc%02d%s", i, randHex(8)),
			phone:    fmt.Sprintf("+614%08d", 10000000+i*7919),
			clientID: fmt.Sprintf("%d.%d", 1000000000+i*31337, 1764110000+i),
			gclid:    "Cj0KCQ" + randHex(24),
			want:     "counted",
		}
		switch i % 5 {
		case 1:
			c.gclid = "EXPIRED-" + randHex(24)
			c.want = "rejected by Google: EXPIRED_CLICK"
		case 3:
			c.gclid = "UNKNOWN-" + randHex(24)
			c.want = "rejected by Google: CLICK_NOT_FOUND"
		}
		out = append(out, c)
	}
	return out
}

// TestProcessingOutcomes: 100 answered calls from Google Ads clicks, a
// fifth of them with clicks Google rejects as expired and a fifth as
// unknown when it processes them. The forwarder is killed (SIGKILL) once
// every conversion is delivered, before any poll is due, and started
// again: once Google's delay has passed, each call's Google Ads delivery
// has its exact outcome in the read API and in calls show, the rejected
// ones are dead letters of kind processing (read API and deadletter
// list), each delivery was resolved once, no request was polled sooner
// than the backoff allows, and every poll Google saw is counted in the
// metrics. On Redis a second instance runs throughout, so both poll the
// same requests' store. No log line holds a phone number, client id or
// GCLID.
func TestProcessingOutcomes(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { testProcessingOutcomes(t, nil) })
	t.Run("redis", func(t *testing.T) { testProcessingOutcomes(t, redistest.Start(t)) })
}

func testProcessingOutcomes(t *testing.T, r *redistest.Server) {
	e := newEnvWith(t, emulator.Options{Seed: 7, Ads: emulator.AdsConfig{Processing: emulator.ProcessingConfig{
		DelayMS: procDelay.Milliseconds(),
		RejectGCLIDPrefixes: map[string]string{
			"EXPIRED-": "PROCESSING_ERROR_REASON_EXPIRED_CLICK",
			"UNKNOWN-": "PROCESSING_ERROR_REASON_CLICK_NOT_FOUND",
		},
		MinPollGapMS: procFirst.Milliseconds(),
	}}})
	e.useExampleRules(t, "")
	token := e.addAdminToken(t, "e2e-processing")
	args := append(e.adsArgs(), "--admin-listen", "127.0.0.1:0",
		"--diagnostics-first-poll", procFirst.String(), "--diagnostics-max-interval", procFirst.String(), "--diagnostics-give-up", "1m")
	storeArgs := []string{"--data-dir", filepath.Join(e.dir, "data")}
	if r != nil {
		storeArgs = []string{"--redis-url", r.URL()}
		args = append(args, storeArgs...)
	}
	var all []*Logs
	startOne := func() (*Forwarder, string) {
		logs := &Logs{}
		all = append(all, logs)
		f := e.start(t, logs, args...)
		return f, "http://" + adminAddr(t, logs)
	}
	f, admin := startOne()
	var other *Forwarder
	if r != nil {
		other, _ = startOne()
	}

	calls := processingCalls()
	for i, c := range calls {
		target := f
		if other != nil && i%2 == 1 {
			target = other
		}
		e.postSample(t, target, "answered-with-gclid.form", map[string]string{
			"Call.Sid": c.sid, "Call.From": c.phone, "Google.Analytics.ClientId": c.clientID, "Google.AdWords.ClickId": c.gclid,
		})
	}
	type overview struct {
		Store struct{ Pending int }
		Polls struct{ Pending int }
	}
	read := func(admin string) overview {
		var o overview
		code, body := adminGet(t, admin+"/admin/api/overview", token)
		if code != http.StatusOK || json.Unmarshal(body, &o) != nil {
			t.Fatalf("overview: %d %s", code, body)
		}
		return o
	}
	Eventually(t, 20*time.Second, "every conversion is delivered and awaits Google's report", func() bool {
		o := read(admin)
		return o.Store.Pending == 0 && len(e.emu.DataManagerEvents()) >= procCalls && o.Polls.Pending > 0
	})
	if p := e.emu.RequestStatusPolls(); p.Polls != 0 {
		t.Fatalf("Google was polled %d times before the first wait ended; the kill below would not land during the wait", p.Polls)
	}
	f.Kill()
	f, admin = startOne()

	Eventually(t, 30*time.Second, "Google reported on every request", func() bool {
		return read(admin).Polls.Pending == 0
	})

	type delivery struct{ ID, State, Outcome, Destination string }
	var outputs []string
	dead := map[string]bool{}
	for _, c := range calls {
		code, body := adminGet(t, admin+"/admin/api/calls/"+c.sid, token)
		outputs = append(outputs, string(body))
		var view struct{ Deliveries []delivery }
		if code != http.StatusOK || json.Unmarshal(body, &view) != nil {
			t.Fatalf("call %s: %d %s", c.sid, code, body)
		}
		found := false
		for _, d := range view.Deliveries {
			if d.Destination != "google-ads" {
				continue
			}
			found = true
			if d.Outcome != c.want {
				t.Errorf("call %s: outcome %q, want %q", c.sid, d.Outcome, c.want)
			}
			if d.State == "dead" {
				dead[c.sid] = true
			}
			if (d.State == "dead") != strings.HasPrefix(c.want, "rejected") {
				t.Errorf("call %s: state %s with outcome %q", c.sid, d.State, d.Outcome)
			}
		}
		if !found {
			t.Errorf("call %s: no Google Ads delivery in %s", c.sid, body)
		}
	}

	code, body := adminGet(t, admin+"/admin/api/deadletters?kind=processing&limit=1000", token)
	outputs = append(outputs, string(body))
	var dl struct {
		Total       int
		DeadLetters []struct {
			CallSid            string `json:"call_sid"`
			Kind, Code, Reason string
		} `json:"dead_letters"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &dl) != nil {
		t.Fatalf("dead letters: %d %s", code, body)
	}
	if dl.Total != len(dead) || len(dl.DeadLetters) != len(dead) || len(dead) != 2*procCalls/5 {
		t.Errorf("%d processing dead letters (%d listed), want the %d rejected calls", dl.Total, len(dl.DeadLetters), 2*procCalls/5)
	}
	for _, d := range dl.DeadLetters {
		if !dead[d.CallSid] || d.Kind != "processing" || !strings.HasPrefix(d.Reason, "rejected by Google: "+d.Code) {
			t.Errorf("dead letter %+v", d)
		}
	}

	// Each delivery was resolved once, and every poll is counted.
	resolved := 0
	for _, logs := range all {
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var rec struct {
				Msg        string
				Deliveries int
			}
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "processing outcome recorded" {
				resolved += rec.Deliveries
			}
		}
	}
	if resolved != procCalls {
		t.Errorf("%d deliveries resolved, want each of the %d once", resolved, procCalls)
	}
	report := e.emu.RequestStatusPolls()
	counted := 0.0
	for _, g := range []*Forwarder{f, other} {
		if g == nil {
			continue
		}
		fams, _, err := scrapeMetrics(g)
		must(t, err)
		counted += sum(fams, "callforward_diagnostics_polls_total", nil)
		if g == f {
			rejected := sum(fams, "callforward_google_outcomes_total", map[string]string{"outcome": "rejected"})
			if got := sum(fams, "callforward_diagnostics_oldest_unresolved_seconds", nil); got != 0 {
				t.Errorf("oldest unresolved %v s once every request is resolved", got)
			}
			if r == nil && rejected != float64(len(dead)) {
				t.Errorf("metrics count %v rejected outcomes, want %d", rejected, len(dead))
			}
		}
	}
	if report.Polls == 0 || report.Violations != 0 || int(counted) != report.Polls {
		t.Errorf("Google saw %+v; the forwarders counted %v polls: want no violation of the %v gap and every poll counted", report, counted, procFirst)
	}

	if r == nil {
		if _, err := f.Stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
	}
	list := Run(t, e.bin, append([]string{"deadletter", "list"}, storeArgs...)...)
	outputs = append(outputs, list)
	if !strings.Contains(list, fmt.Sprintf("%d dead letter(s)", len(dead))) || !strings.Contains(list, "rejected by Google: EXPIRED_CLICK") ||
		!strings.Contains(list, "rejected by Google: CLICK_NOT_FOUND") {
		t.Errorf("deadletter list:\n%s", list)
	}
	rules := []string{"--rules", filepath.Join(e.dir, "rules.yaml")}
	for _, c := range calls[:4] {
		show := Run(t, e.bin, append(append([]string{"calls", "show", c.sid}, storeArgs...), rules...)...)
		outputs = append(outputs, show)
		if !strings.Contains(show, c.want) {
			t.Errorf("calls show %s: no %q in\n%s", c.sid, c.want, show)
		}
	}

	var needles []string
	for _, c := range calls {
		needles = append(needles, c.phone, c.clientID, c.gclid)
	}
	for _, logs := range all {
		if n, ok := Contains(logs.String(), needles...); ok {
			t.Errorf("a log holds personal data: %q", n)
		}
	}
	if n, ok := Contains(strings.Join(outputs, "\n"), needles...); ok {
		t.Errorf("an output holds personal data: %q", n)
	}
}
