package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/store"
)

// Metrics is what deliver reports batch sizes to, and what the webhook
// handler reports dropped fields to.
var (
	_ deliver.BatchRecorder = (*Metrics)(nil)
	_ httpapi.DropCounter   = (*Metrics)(nil)
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
	m.Batch("ga4", 25)
	m.Batch("ga4", 3)
	m.Batch("google_ads", 1200)
	m.Commit(1, 800*time.Microsecond)
	m.Commit(64, 12*time.Millisecond)
	m.TokenRefresh("authorized_user", "datamanager", nil)
	m.TokenRefresh("authorized_user", "datamanager", errors.New("refused"))
	m.TokenRefresh("service_account", "adwords", nil)
	m.Webhook("accepted")
	m.Webhook("accepted")
	m.FieldDropped("Call.Survey.Value")
	m.FieldDropped("Call.Survey.Value")
	m.FieldDropped("(other)")
	m.Reload(true)
	m.Reload(false)
	m.Yielded(50 * time.Millisecond)
	m.Yielded(50 * time.Millisecond)
	m.ObserveInFlight(func() int { return 5 })
	m.Poll("processing")
	m.Poll("resolved")
	m.Outcome("ads", forwarder.Verdict{Outcome: forwarder.OutcomeCounted})
	m.Outcome("ads", forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"})
	m.Outcome("ads", forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "a reason with +61412345678"})
	m.ObservePolls(func(context.Context) (store.PollStats, error) {
		return store.PollStats{Pending: 4, OldestSentAt: time.Now().Add(-time.Hour)}, nil
	})
	api := forwarder.Delivery{Type: "google_ads", Destination: "ads-api", Rule: "q", Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendGoogleAdsAPI}}
	m.Delivery(api, "delivered", nil, time.Millisecond)
	m.Delivery(api, "dead", forwarder.Rejected("EXPIRED_EVENT", errors.New("too old")), time.Millisecond)
	// Local checks Google never saw are dead letters, not rejections.
	m.Delivery(api, "dead", forwarder.Permanent("NO_CREDENTIALS", errors.New("not configured")), time.Millisecond)
	m.Delivery(api, "dead", forwarder.Permanent("LATER_THAN_MAXIMUM_DATE", errors.New("in the future")), time.Millisecond)
	m.Delivery(api, "retry", forwarder.Transient("http_503", errors.New("down")), time.Millisecond)
	m.Delivery(api, "dead", forwarder.Transient("http_503", errors.New("down")), time.Millisecond)
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
	if strings.Contains(out, `callforward_google_outcomes_total{destination="web"`) || strings.Count(out, `callforward_google_outcomes_total{destination="ads-api"`) != 2 {
		t.Error("outcomes counted for GA4, or for an Ads API delivery that Google did not refuse")
	}
	if strings.Contains(out, `reason="NO_CREDENTIALS"`) || strings.Contains(out, `reason="LATER_THAN_MAXIMUM_DATE"`) {
		t.Error("a local check counted as Google's rejection")
	}
	if strings.Contains(out, "+61412345678") {
		t.Error("a reason that is not a reason code reached a label")
	}
	if !regexp.MustCompile(`\ncallforward_diagnostics_oldest_unresolved_seconds 36\d\d(\.\d+)?\n`).MatchString(out) {
		t.Error("scrape lacks the age of the oldest unresolved request (about 3600 s)")
	}
	for _, want := range []string{
		`callforward_diagnostics_polls_total{result="processing"} 1`,
		`callforward_diagnostics_polls_total{result="resolved"} 1`,
		`callforward_google_outcomes_total{destination="ads",outcome="counted",reason=""} 1`,
		`callforward_google_outcomes_total{destination="ads",outcome="rejected",reason="EXPIRED_CLICK"} 1`,
		`callforward_google_outcomes_total{destination="ads",outcome="rejected",reason="OTHER"} 1`,
		"callforward_diagnostics_pending 4",
		`callforward_google_outcomes_total{destination="ads-api",outcome="counted",reason=""} 1`,
		`callforward_google_outcomes_total{destination="ads-api",outcome="rejected",reason="EXPIRED_EVENT"} 1`,
		`callforward_webhooks_total{result="accepted"} 2`,
		`callforward_webhook_fields_dropped_total{field="Call.Survey.Value"} 2`,
		`callforward_webhook_fields_dropped_total{field="(other)"} 1`,
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
		"callforward_queue_oldest_due_age_seconds 0",
		`callforward_batch_size_count{type="ga4"} 2`,
		`callforward_batch_size_sum{type="ga4"} 28`,
		`callforward_batch_size_bucket{type="ga4",le="2"} 0`,
		`callforward_batch_size_bucket{type="ga4",le="5"} 1`,
		`callforward_batch_size_bucket{type="ga4",le="25"} 2`,
		`callforward_batch_size_count{type="google_ads"} 1`,
		`callforward_batch_size_bucket{type="google_ads",le="1000"} 0`,
		`callforward_batch_size_bucket{type="google_ads",le="2000"} 1`,
		"callforward_store_commit_writes_count 2", "callforward_store_commit_writes_sum 65",
		`callforward_store_commit_writes_bucket{le="50"} 1`, `callforward_store_commit_writes_bucket{le="100"} 2`,
		`callforward_store_commit_seconds_bucket{le="0.001"} 1`, `callforward_store_commit_seconds_bucket{le="0.025"} 2`,
		`callforward_oauth_token_refreshes_total{kind="authorized_user",result="ok",scope="datamanager"} 1`,
		`callforward_oauth_token_refreshes_total{kind="authorized_user",result="error",scope="datamanager"} 1`,
		`callforward_oauth_token_refreshes_total{kind="service_account",result="ok",scope="adwords"} 1`,
		"callforward_delivery_yields_total 2", "callforward_delivery_yield_seconds_total 0.1",
		"callforward_webhooks_in_flight 5",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

// TestOldestDueAge: the gauge is how long the earliest pending job has
// been due, read from the store at scrape time; 0 when nothing is due.
func TestOldestDueAge(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name     string
		earliest time.Time
		want     float64
	}{
		{"nothing pending", time.Time{}, 0},
		{"due in the future (retry or lease)", now.Add(time.Minute), 0},
		{"due just now", now, 0},
		{"overdue", now.Add(-90 * time.Second), 90},
		{"overdue by a fraction", now.Add(-1500 * time.Millisecond), 1.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dueAge(tt.earliest, now); got != tt.want {
				t.Errorf("dueAge = %v, want %v", got, tt.want)
			}
		})
	}

	// Through a scrape, on the real clock.
	earliest := time.Now().Add(-90 * time.Second)
	m := New(func(context.Context) (store.Stats, error) {
		return store.Stats{Pending: 1, EarliestDue: earliest}, nil
	})
	before := time.Since(earliest).Seconds()
	out := scrape(t, m)
	after := time.Since(earliest).Seconds()
	const name = "callforward_queue_oldest_due_age_seconds "
	i := strings.Index(out, "\n"+name)
	if i < 0 {
		t.Fatalf("scrape lacks %s:\n%s", name, out)
	}
	line, _, _ := strings.Cut(out[i+1+len(name):], "\n")
	got, err := strconv.ParseFloat(line, 64)
	if err != nil || got < before || got > after {
		t.Errorf("oldest due age = %q, want between %v and %v", line, before, after)
	}
}

func TestStoreDown(t *testing.T) {
	m := New(func(context.Context) (store.Stats, error) { return store.Stats{}, errors.New("down") })
	out := scrape(t, m)
	if !strings.Contains(out, "callforward_store_up 0\n") || strings.Contains(out, "callforward_queue_pending") ||
		strings.Contains(out, "callforward_queue_oldest_due_age_seconds ") {
		t.Errorf("with the store down, want store_up 0 and no store gauges:\n%s", out)
	}
}
