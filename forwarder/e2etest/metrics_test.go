package e2etest

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/callforward/callforward/forwarder/emulator"
)

// TestMetrics scrapes /metrics after a scripted run and checks that the
// counters say what happened, and that no personal data is in them.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	f := e.start(t, nil)
	var calls []call
	events := 0
	for i := range 5 {
		c := newCall(i, []string{"ANSWERED", "BUSY"}[i%2], 61+i)
		calls = append(calls, c)
		events += len(c.expected())
		if code, _ := e.post(t, f, c); code != 200 {
			t.Fatalf("call %d: %d", i, code)
		}
	}
	e.post(t, f, calls[0]) // duplicate
	bad := calls[1].form()
	bad.Set("Call.Sid", "CAbad")
	bad.Set("Call.Duration", "long")
	req, _ := http.NewRequest(http.MethodPost, f.URL()+"/webhooks/fonedynamics?token="+e.token, strings.NewReader(bad.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, _, _ := Post(t.Context(), req); code != 400 {
		t.Fatalf("bad request: %d", code)
	}
	// A malformed optional field is dropped, and the call kept (ignored:
	// no rule takes a Call.Initiate).
	dropped := calls[1].form()
	dropped.Set("Call.Sid", "CAdropped")
	dropped.Set("Event", "Call.Initiate")
	dropped.Set("Call.Survey.Value", "12.5")
	req, _ = http.NewRequest(http.MethodPost, f.URL()+"/webhooks/fonedynamics?token="+e.token, strings.NewReader(dropped.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, body, _ := Post(t.Context(), req); code != 200 || fmt.Sprint(body["dropped"]) != "[map[field:Call.Survey.Value reason:not an integer: \"12.5\"]]" {
		t.Fatalf("call with a malformed survey value: %d %v", code, body)
	}
	req, _ = http.NewRequest(http.MethodPost, f.URL()+"/webhooks/fonedynamics", strings.NewReader(calls[2].form().Encode()))
	if code, _, _ := Post(t.Context(), req); code != 401 {
		t.Fatalf("unauthenticated request: %d", code)
	}
	Eventually(t, 10*time.Second, "events arrive", func() bool { return len(e.emu.GA4Events()) >= events })

	var families map[string]*dto.MetricFamily
	var text string
	Eventually(t, 10*time.Second, "metrics settle", func() bool {
		var err error
		families, text, err = scrapeMetrics(f)
		// One scrape reads the store and the counters concurrently, so
		// the store's counts may predate the last acknowledgement the
		// counters show: settled means both agree.
		return err == nil && sum(families, "callforward_deliveries_total", map[string]string{"outcome": "delivered"}) == float64(events) &&
			sum(families, "callforward_queue_pending", nil) == 0
	})
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"callforward_webhooks_total", map[string]string{"result": "accepted"}, 5},
		{"callforward_webhooks_total", map[string]string{"result": "duplicate"}, 1},
		{"callforward_webhook_replies_total", map[string]string{"code": "200"}, 7},
		{"callforward_webhook_fields_dropped_total", map[string]string{"field": "Call.Survey.Value"}, 1},
		{"callforward_webhook_replies_total", map[string]string{"code": "400"}, 1},
		{"callforward_webhook_replies_total", map[string]string{"code": "401"}, 1},
		{"callforward_deliveries_total", map[string]string{"outcome": "delivered", "rule": "qualified"}, 3},
		{"callforward_deliveries_total", map[string]string{"outcome": "delivered", "rule": "every-call"}, 5},
		{"callforward_deliveries_total", map[string]string{"outcome": "dead"}, 0},
		{"callforward_queue_pending", nil, 0},
		{"callforward_queue_oldest_due_age_seconds", nil, 0},
		{"callforward_calls_stored", nil, 6},
		{"callforward_rejected_stored", nil, 1},
		{"callforward_store_up", nil, 1},
	}
	for _, c := range checks {
		if got := sum(families, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := sampleCount(families, "callforward_send_duration_seconds"); n != uint64(events) {
		t.Errorf("send duration observations = %d, want %d", n, events)
	}
	// GA4 events go out in batches: each event sent once, in one batch.
	if n, total := histogram(families, "callforward_batch_size", map[string]string{"type": "ga4"}); n < 1 || n > uint64(events) || total != float64(events) {
		t.Errorf("GA4 batches: %d holding %v events, want between 1 and %d holding %d", n, total, events, events)
	}
	if _, ok := families["callforward_oauth_token_refreshes_total"]; ok {
		t.Error("token refreshes counted without any Google OAuth credentials")
	}
	needles := []string{e.token}
	for _, c := range calls {
		needles = append(needles, c.phone, c.clientID, c.sid)
	}
	if n, ok := Contains(text, needles...); ok {
		t.Errorf("/metrics exposes %q", n)
	}
}

// TestMetricsGoogleAds: under the example rules, with Google Ads reached
// through OAuth at the emulator, the batch sizes add up to the deliveries
// sent by type, and every access token the emulator issued is one token
// refresh counted, none failed.
func TestMetricsGoogleAds(t *testing.T) {
	e := newEnv(t)
	e.useExampleRules(t, "")
	f := e.start(t, nil, e.adsArgs()...)
	calls := faultCalls(t, 12)
	want := map[string]int{}
	needles := []string{e.token, refreshToken, "e2e-client-secret"}
	for _, c := range calls {
		want["ga4"] += len(c.ga4)
		want["google_ads"] += len(c.ads)
		q, err := url.ParseQuery(c.body)
		must(t, err)
		needles = append(needles, c.sid, q.Get("Call.From"), q.Get("Google.Analytics.ClientId"), q.Get("Google.AdWords.ClickId"))
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.URL()+"/webhooks/fonedynamics", strings.NewReader(c.body))
		must(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+e.token)
		if code, reply, err := Post(t.Context(), req); err != nil || code != http.StatusOK {
			t.Fatalf("%s: %d %v %v", c.sid, code, reply, err)
		}
	}
	if want["ga4"] == 0 || want["google_ads"] == 0 {
		t.Fatalf("the calls plan %v; want GA4 events and Google Ads conversions", want)
	}

	var fams map[string]*dto.MetricFamily
	var text string
	Eventually(t, 15*time.Second, "every delivery is delivered", func() bool {
		var err error
		fams, text, err = scrapeMetrics(f)
		if err != nil || sum(fams, "callforward_queue_pending", nil) != 0 {
			return false
		}
		for typ, n := range want {
			if sum(fams, "callforward_deliveries_total", map[string]string{"type": typ, "outcome": "delivered"}) != float64(n) {
				return false
			}
		}
		return true
	})
	for typ, n := range want {
		batches, total := histogram(fams, "callforward_batch_size", map[string]string{"type": typ})
		if batches < 1 || total != float64(n) {
			t.Errorf("%s: %d batches holding %v deliveries, want at least 1 holding %d", typ, batches, total, n)
		}
		if sent := sum(fams, "callforward_deliveries_total", map[string]string{"type": typ}); sent != float64(n) {
			t.Errorf("%s: %v deliveries recorded, want %d (one send each)", typ, sent, n)
		}
	}
	issued := e.emu.TokensIssued()
	ok := sum(fams, "callforward_oauth_token_refreshes_total", map[string]string{"kind": "authorized_user", "result": "ok"})
	if issued < 1 || ok != float64(issued) {
		t.Errorf("token refreshes counted %v, the emulator issued %d tokens; want the same, at least 1", ok, issued)
	}
	if n := sum(fams, "callforward_oauth_token_refreshes_total", map[string]string{"result": "error"}); n != 0 {
		t.Errorf("%v failed token refreshes counted, want 0", n)
	}
	if n, ok := Contains(text, needles...); ok {
		t.Errorf("/metrics exposes %q", n)
	}
}

// TestMetricsQueueBacklog: while Google holds every request past the send
// timeout and the one worker is busy, the deliveries waiting in the queue
// show in the oldest due age; once Google recovers the queue drains and
// the age is 0 again, and every send, failed ones included, was counted
// in exactly one batch.
func TestMetricsQueueBacklog(t *testing.T) {
	e := newEnv(t)
	e.emu.SetFaults(emulator.Faults{TimeoutRate: 1, Timeout: 10 * time.Second})
	f := e.start(t, nil, "--workers", "1", "--send-timeout", "1s")
	events := 0
	for i := range 40 {
		c := newCall(i, "ANSWERED", 61+i)
		events += len(c.expected())
		if code, _ := e.post(t, f, c); code != 200 {
			t.Fatalf("call %d: %d", i, code)
		}
	}
	// One worker sends a batch of 25 and 25 more wait in memory; the rest
	// wait in the queue, due, while the batch is held.
	Eventually(t, 10*time.Second, "the oldest due delivery is 0.3 s overdue", func() bool {
		fams, _, err := scrapeMetrics(f)
		return err == nil && sum(fams, "callforward_queue_oldest_due_age_seconds", nil) >= 0.3
	})
	e.emu.SetFaults(emulator.Faults{})

	var fams map[string]*dto.MetricFamily
	Eventually(t, 20*time.Second, "the queue drains", func() bool {
		var err error
		fams, _, err = scrapeMetrics(f)
		return err == nil && sum(fams, "callforward_queue_pending", nil) == 0 &&
			sum(fams, "callforward_deliveries_total", map[string]string{"outcome": "delivered"}) == float64(events)
	})
	if age := sum(fams, "callforward_queue_oldest_due_age_seconds", nil); age != 0 {
		t.Errorf("oldest due age %v with nothing pending, want 0", age)
	}
	retried := sum(fams, "callforward_deliveries_total", map[string]string{"outcome": "retry"})
	if retried < 1 || sum(fams, "callforward_send_errors_total", map[string]string{"type": "ga4"}) != retried {
		t.Errorf("%v retries and %v send errors, want the same, at least 1 (Google timed out)",
			retried, sum(fams, "callforward_send_errors_total", map[string]string{"type": "ga4"}))
	}
	if dead := sum(fams, "callforward_deliveries_total", map[string]string{"outcome": "dead"}); dead != 0 {
		t.Errorf("%v dead-lettered, want 0", dead)
	}
	sent := sum(fams, "callforward_deliveries_total", map[string]string{"type": "ga4"})
	if _, total := histogram(fams, "callforward_batch_size", map[string]string{"type": "ga4"}); total != sent {
		t.Errorf("batches hold %v deliveries, %v sends recorded; want the same", total, sent)
	}
	if got := len(e.emu.GA4Events()); got != events {
		t.Errorf("Google recorded %d events, want %d", got, events)
	}
}

// scrapeMetrics reads and parses f's /metrics.
func scrapeMetrics(f *Forwarder) (map[string]*dto.MetricFamily, string, error) {
	res, err := http.Get(f.URL() + "/metrics")
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, "", err
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(raw)))
	return fams, string(raw), err
}

// sum adds the values of the samples of family name whose labels include labels.
func sum(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		}
	}
	return total
}

// histogram adds the sample counts and sums of histogram family name
// whose labels include labels.
func histogram(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (count uint64, total float64) {
	f, ok := fams[name]
	if !ok {
		return 0, 0
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, labels) {
			count += m.GetHistogram().GetSampleCount()
			total += m.GetHistogram().GetSampleSum()
		}
	}
	return count, total
}

// hasLabels reports whether m's labels include labels.
func hasLabels(m *dto.Metric, labels map[string]string) bool {
	have := map[string]string{}
	for _, lp := range m.GetLabel() {
		have[lp.GetName()] = lp.GetValue()
	}
	for k, v := range labels {
		if have[k] != v {
			return false
		}
	}
	return true
}

func sampleCount(fams map[string]*dto.MetricFamily, name string) uint64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	var n uint64
	for _, m := range f.GetMetric() {
		n += m.GetHistogram().GetSampleCount()
	}
	return n
}
