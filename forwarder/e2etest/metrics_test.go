package e2etest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
	req, _ = http.NewRequest(http.MethodPost, f.URL()+"/webhooks/fonedynamics", strings.NewReader(calls[2].form().Encode()))
	if code, _, _ := Post(t.Context(), req); code != 401 {
		t.Fatalf("unauthenticated request: %d", code)
	}
	Eventually(t, 10*time.Second, "events arrive", func() bool { return len(e.emu.GA4Events()) >= events })

	var families map[string]*dto.MetricFamily
	var text string
	Eventually(t, 10*time.Second, "metrics settle", func() bool {
		res, err := http.Get(f.URL() + "/metrics")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		text = string(raw)
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, err = parser.TextToMetricFamilies(strings.NewReader(text))
		return err == nil && sum(families, "callforward_deliveries_total", map[string]string{"outcome": "delivered"}) == float64(events)
	})
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"callforward_webhooks_total", map[string]string{"result": "accepted"}, 5},
		{"callforward_webhooks_total", map[string]string{"result": "duplicate"}, 1},
		{"callforward_webhook_replies_total", map[string]string{"code": "200"}, 6},
		{"callforward_webhook_replies_total", map[string]string{"code": "400"}, 1},
		{"callforward_webhook_replies_total", map[string]string{"code": "401"}, 1},
		{"callforward_deliveries_total", map[string]string{"outcome": "delivered", "rule": "qualified"}, 3},
		{"callforward_deliveries_total", map[string]string{"outcome": "delivered", "rule": "every-call"}, 5},
		{"callforward_deliveries_total", map[string]string{"outcome": "dead"}, 0},
		{"callforward_queue_pending", nil, 0},
		{"callforward_calls_stored", nil, 5},
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
	needles := []string{e.token}
	for _, c := range calls {
		needles = append(needles, c.phone, c.clientID, c.sid)
	}
	if n, ok := Contains(text, needles...); ok {
		t.Errorf("/metrics exposes %q", n)
	}
}

// sum adds the values of the samples of family name whose labels include labels.
func sum(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range labels {
			if have[k] != v {
				match = false
			}
		}
		if !match {
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
