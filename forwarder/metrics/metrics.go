// Package metrics holds the forwarder's Prometheus instruments and serves
// them. Each instrument records a decision made elsewhere (ingest, deliver,
// the HTTP layer); those packages declare the small interfaces they need
// and this package implements them, so none of them imports Prometheus.
//
// Labels carry only configuration (rule and destination names, destination
// types, credential kinds and OAuth scopes) and bounded codes (HTTP
// statuses, Google error codes): never a phone number, client id, click
// id, Call.Sid, secret or account id.
package metrics

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Metrics is the set of instruments of one forwarder.
type Metrics struct {
	reg          *prometheus.Registry
	webhooks     *prometheus.CounterVec
	dropped      *prometheus.CounterVec
	httpReplies  *prometheus.CounterVec
	deliveries   *prometheus.CounterVec
	sendErrors   *prometheus.CounterVec
	sendDuration *prometheus.HistogramVec
	reloads      *prometheus.CounterVec
	batchSize    *prometheus.HistogramVec
	tokenFetches *prometheus.CounterVec
	commitWrites prometheus.Histogram
	commitTime   prometheus.Histogram
	outcomes     *prometheus.CounterVec
	polls        *prometheus.CounterVec
	yields       prometheus.Counter
	yieldTime    prometheus.Counter
}

// StatsFunc reports what the store holds; it is called at scrape time.
type StatsFunc func(ctx context.Context) (store.Stats, error)

// New registers the instruments, the Go and process collectors, and gauges
// read from stats at every scrape.
func New(stats StatsFunc) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callforward_webhooks_total",
			Help: "Webhooks stored, by result: accepted, duplicate or ignored.",
		}, []string{"result"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callforward_webhook_fields_dropped_total",
			Help: "Optional webhook fields left out of stored calls because their value was malformed, by parameter name ((other) for an undocumented one).",
		}, []string{"field"}),
		httpReplies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callforward_webhook_replies_total",
			Help: "Replies of the webhook endpoint, by HTTP status (4xx: rejected, with the reason in the status).",
		}, []string{"code"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callforward_deliveries_total",
			Help: "Delivery attempts by destination and outcome: delivered, retry, dead (dead-lettered), lease_lost.",
		}, []string{"type", "destination", "rule", "outcome"}),
		sendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callforward_send_errors_total",
			Help: "Failed sends by destination type, kind (transient, retry_after, permanent) and code (HTTP status or Google's error code).",
		}, []string{"type", "kind", "code"}),
		sendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "callforward_send_duration_seconds",
			Help:    "Time to send one delivery to Google, by destination type.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"type"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callforward_rules_reloads_total",
			Help: "Rules reloads by result: ok or refused.",
		}, []string{"result"}),
		batchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "callforward_batch_size",
			Help: "Deliveries per batch sent to Google, by destination type (GA4 takes up to 25 events a request, Google Ads up to 2000 conversions).",
			// 25 is GA4's full batch, 2000 Google Ads'.
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000},
		}, []string{"type"}),
		tokenFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callforward_oauth_token_refreshes_total",
			Help: "Google OAuth access tokens fetched from the token endpoint (cached tokens not counted), by credential kind (authorized_user, service_account), scope and result (ok, error).",
		}, []string{"kind", "scope", "result"}),
		commitWrites: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "callforward_store_commit_writes",
			Help: "Writes (accepted calls, claims, settlements, kept rejects) per transaction of the embedded store: writes that arrive during a commit share the next one and its fsync.",
			// The committer takes at most 1000 writes a transaction.
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000},
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "callforward_store_commit_seconds",
			Help:    "Time of one transaction of the embedded store, from its first write to its fsynced commit.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callforward_google_outcomes_total",
			Help: "Google Ads deliveries by Google's final word, by destination, outcome (counted, rejected, unknown) and Google's reason (e.g. EXPIRED_CLICK; empty when none, OTHER when not a reason code): as Data Manager's requestStatus:retrieve reported, or as the Google Ads API answered at the send (failures Google never saw are not counted).",
		}, []string{"destination", "outcome", "reason"}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callforward_diagnostics_polls_total",
			Help: "Polls of requestStatus:retrieve by result: resolved, processing (asked again later), error (Google or the network failed; asked again later), gave_up (the last poll: outcomes unknown).",
		}, []string{"result"}),
		yields: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callforward_delivery_yields_total",
			Help: "Claims of the delivery workers delayed because intake was busy (at least the yield threshold of webhooks in progress).",
		}),
		yieldTime: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "callforward_delivery_yield_seconds_total",
			Help: "Time the delivery workers' claimer waited for a busy intake before its claims (at most 50ms per claim).",
		}),
	}
	reg.MustRegister(m.webhooks, m.dropped, m.httpReplies, m.deliveries, m.sendErrors, m.sendDuration, m.reloads,
		m.batchSize, m.tokenFetches, m.commitWrites, m.commitTime, m.outcomes, m.polls,
		m.yields, m.yieldTime,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if stats != nil {
		reg.MustRegister(&storeCollector{stats: stats})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Webhook counts a stored webhook by its result (ingest reports it).
func (m *Metrics) Webhook(result string) { m.webhooks.WithLabelValues(result).Inc() }

// WebhookCounts returns the webhooks counted so far by result.
func (m *Metrics) WebhookCounts() map[string]int {
	out := map[string]int{}
	ch := make(chan prometheus.Metric, 16)
	go func() { m.webhooks.Collect(ch); close(ch) }()
	for pm := range ch {
		var d dto.Metric
		if pm.Write(&d) != nil {
			continue
		}
		for _, l := range d.GetLabel() {
			out[l.GetValue()] += int(d.GetCounter().GetValue())
		}
	}
	return out
}

// FieldDropped counts an optional field left out of a stored call (the
// webhook handler reports it); field is a documented parameter name or
// "(other)".
func (m *Metrics) FieldDropped(field string) { m.dropped.WithLabelValues(field).Inc() }

// Reload counts a rules reload.
func (m *Metrics) Reload(ok bool) {
	if ok {
		m.reloads.WithLabelValues("ok").Inc()
		return
	}
	m.reloads.WithLabelValues("refused").Inc()
}

// Delivery records one settled send (deliver reports it): outcome is
// delivered, retry, dead or lease_lost; err is the send's error, if any.
func (m *Metrics) Delivery(d forwarder.Delivery, outcome string, err error, took time.Duration) {
	m.deliveries.WithLabelValues(d.Type, d.Destination, d.Rule, outcome).Inc()
	if took > 0 {
		m.sendDuration.WithLabelValues(d.Type).Observe(took.Seconds())
	}
	if err != nil {
		se := forwarder.Classify(err)
		m.sendErrors.WithLabelValues(d.Type, se.Kind.String(), se.Code).Inc()
	}
	// An outcome known at the send (the Google Ads API's answer, a
	// rejection in Google's reply), by the rule the views follow; sent and
	// awaiting are no final word from Google.
	var info store.JobInfo
	switch outcome {
	case "delivered":
		info.State = store.JobDone
	case "dead":
		info.State = store.JobDead
		info.Job.Verdict = forwarder.Classify(err).Verdict()
	default:
		return
	}
	info.Job.Delivery = d
	if v := info.Outcome(); v != nil && (v.Outcome == forwarder.OutcomeCounted || v.Outcome == forwarder.OutcomeRejected) {
		m.Outcome(d.Destination, *v)
	}
}

// Yielded counts one claim the delivery workers delayed for a busy intake
// and the time it waited (deliver reports it).
func (m *Metrics) Yielded(took time.Duration) {
	m.yields.Inc()
	m.yieldTime.Add(took.Seconds())
}

// ObserveInFlight adds a gauge of the webhooks in progress, read from
// inFlight at every scrape.
func (m *Metrics) ObserveInFlight(inFlight func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "callforward_webhooks_in_flight",
		Help: "Webhooks being read, decoded and stored at the moment of the scrape; the delivery workers yield to intake while they are many.",
	}, func() float64 { return float64(inFlight()) }))
}

// Poll counts one poll of requestStatus:retrieve (the diagnostics poller
// reports it) by result.
func (m *Metrics) Poll(result string) { m.polls.WithLabelValues(result).Inc() }

// Outcome counts one delivery's processing outcome (the diagnostics
// poller reports it). Google's reason codes are an enum; anything else is
// counted as OTHER so the label stays bounded.
func (m *Metrics) Outcome(destination string, v forwarder.Verdict) {
	reason := v.Reason
	if !reasonCode.MatchString(reason) {
		reason = "OTHER"
	}
	m.outcomes.WithLabelValues(destination, string(v.Outcome), reason).Inc()
}

// reasonCode matches Google's reason codes (and none).
var reasonCode = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,63}$|^$`)

// PollStatsFunc reports the pending polls of processing diagnostics; it is
// called at scrape time.
type PollStatsFunc func(ctx context.Context) (store.PollStats, error)

// ObservePolls exports the age of the oldest request Google has not
// reported on yet (callforward_diagnostics_oldest_unresolved_seconds)
// and the number pending, read from stats at every scrape.
func (m *Metrics) ObservePolls(stats PollStatsFunc) {
	m.reg.MustRegister(&pollCollector{stats: stats})
}

var (
	descPollsPending = prometheus.NewDesc("callforward_diagnostics_pending",
		"Data Manager requests Google has not reported on yet.", nil, nil)
	descOldestUnresolved = prometheus.NewDesc("callforward_diagnostics_oldest_unresolved_seconds",
		"Age of the oldest Data Manager request Google has not reported on yet (0 when none).", nil, nil)
)

// pollCollector reads the pending polls at scrape time.
type pollCollector struct{ stats PollStatsFunc }

func (c *pollCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPollsPending
	ch <- descOldestUnresolved
}

func (c *pollCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		return // callforward_store_up says the store did not answer
	}
	ch <- prometheus.MustNewConstMetric(descPollsPending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(descOldestUnresolved, prometheus.GaugeValue, dueAge(st.OldestSentAt, time.Now()))
}

// Batch records the size of one batch sent to Google (deliver reports
// it); typ is the destination type.
func (m *Metrics) Batch(typ string, size int) {
	m.batchSize.WithLabelValues(typ).Observe(float64(size))
}

// Commit records one transaction of the embedded store (the bbolt store
// reports it): how many writes it carried and how long it took.
func (m *Metrics) Commit(writes int, took time.Duration) {
	m.commitWrites.Observe(float64(writes))
	m.commitTime.Observe(took.Seconds())
}

// TokenRefresh counts one fetch of a Google OAuth access token (the
// credentials' token source reports it): kind is the credential kind,
// scope the scopes' short names, err the failure if any.
func (m *Metrics) TokenRefresh(kind, scope string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.tokenFetches.WithLabelValues(kind, scope, result).Inc()
}

// CountReplies wraps the webhook endpoint's handler to count its replies
// by status.
func (m *Metrics) CountReplies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.httpReplies.WithLabelValues(strconv.Itoa(sw.code)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// storeCollector reads the store's counts at scrape time.
type storeCollector struct{ stats StatsFunc }

var (
	descPending  = prometheus.NewDesc("callforward_queue_pending", "Deliveries waiting to be sent (due or scheduled for a retry).", nil, nil)
	descDead     = prometheus.NewDesc("callforward_dead_letters", "Dead-lettered deliveries waiting for an operator.", nil, nil)
	descCalls    = prometheus.NewDesc("callforward_calls_stored", "Calls held in the store (within the dedup window).", nil, nil)
	descRejected = prometheus.NewDesc("callforward_rejected_stored", "Rejected requests kept for inspection.", nil, nil)
	descUp       = prometheus.NewDesc("callforward_store_up", "1 when the store answered the last scrape.", nil, nil)
	descDueAge   = prometheus.NewDesc("callforward_queue_oldest_due_age_seconds",
		"How long the most overdue delivery has been due without being claimed (0 when none is due).", nil, nil)
)

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descPending
	ch <- descDead
	ch <- descCalls
	ch <- descRejected
	ch <- descUp
	ch <- descDueAge
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(descPending, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(descDead, prometheus.GaugeValue, float64(st.Dead))
	ch <- prometheus.MustNewConstMetric(descCalls, prometheus.GaugeValue, float64(st.Calls))
	ch <- prometheus.MustNewConstMetric(descRejected, prometheus.GaugeValue, float64(st.Rejected))
	ch <- prometheus.MustNewConstMetric(descDueAge, prometheus.GaugeValue, dueAge(st.EarliestDue, time.Now()))
}

// dueAge is how long before now the earliest pending job fell due, in
// seconds: 0 when nothing is pending or the earliest is not due yet (a
// claimed job counts at its lease end, so it is never overdue while its
// lease runs).
func dueAge(earliest, now time.Time) float64 {
	if earliest.IsZero() || !earliest.Before(now) {
		return 0
	}
	return now.Sub(earliest).Seconds()
}
