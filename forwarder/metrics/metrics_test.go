package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestInstruments(t *testing.T) {
	m := New(func(context.Context) (store.Stats, error) {
		return store.Stats{Pending: 3, Dead: 2, Calls: 7, Rejected: 1}, nil
	})
	m.Webhook("accepted")
	m.Webhook("accepted")
	m.Reload(true)
	m.Reload(false)
	d := forwarder.Delivery{Type: "ga4", Destination: "web", Rule: "qualified"}
	m.Delivery(d, "delivered", nil, 20*time.Millisecond)
	m.Delivery(d, "retry", forwarder.Transient("http_503", errors.New("down")), 5*time.Millisecond)
	h := m.CountReplies(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("bad") != "" {
			w.WriteHeader(http.StatusBadRequest)
		}
		io.WriteString(w, "{}")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/w", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/w?bad=1", nil))

	out := scrape(t, m)
	for _, want := range []string{
		`callforward_webhooks_total{result="accepted"} 2`,
		`callforward_rules_reloads_total{result="ok"} 1`,
		`callforward_rules_reloads_total{result="refused"} 1`,
		`callforward_deliveries_total{destination="web",outcome="delivered",rule="qualified",type="ga4"} 1`,
		`callforward_deliveries_total{destination="web",outcome="retry",rule="qualified",type="ga4"} 1`,
		`callforward_send_errors_total{code="http_503",kind="transient",type="ga4"} 1`,
		`callforward_send_duration_seconds_count{type="ga4"} 2`,
		`callforward_webhook_replies_total{code="200"} 1`,
		`callforward_webhook_replies_total{code="400"} 1`,
		"callforward_queue_pending 3", "callforward_dead_letters 2", "callforward_calls_stored 7",
		"callforward_rejected_stored 1", "callforward_store_up 1",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

func TestStoreDown(t *testing.T) {
	m := New(func(context.Context) (store.Stats, error) { return store.Stats{}, errors.New("down") })
	out := scrape(t, m)
	if !strings.Contains(out, "callforward_store_up 0\n") || strings.Contains(out, "callforward_queue_pending") {
		t.Errorf("with the store down, want store_up 0 and no store gauges:\n%s", out)
	}
}
