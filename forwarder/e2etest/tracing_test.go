package e2etest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/tracing/tracingtest"
)

// Span names the binary is expected to send (see forwarder/httpapi,
// forwarder/deliver); spelled out here, as an operator's collector sees
// them.
const (
	spanIntake = "POST /webhooks/fonedynamics"
	spanClient = "HTTP POST"
)

// postTraced sends c with a traceparent, as a traced webhook sender would.
func (e *env) postTraced(t *testing.T, f *Forwarder, c call, gclid, traceparent string) {
	t.Helper()
	form := c.form()
	form.Set("Google.AdWords.ClickId", gclid)
	req, err := http.NewRequest(http.MethodPost, f.URL()+"/webhooks/fonedynamics", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("traceparent", traceparent)
	status, body, err := Post(context.Background(), req)
	if err != nil || status != http.StatusOK || body["status"] != "accepted" {
		t.Fatalf("post %s: %d %v %v", c.sid, status, body, err)
	}
}

// TestTracing runs the binary with --otlp-endpoint at an OTLP/HTTP
// receiver: a call's intake span (continuing the sender's trace), its GA4
// send spans (each linked to the intake span) and their HTTP requests to
// Google arrive, flushed at shutdown, and no attribute anywhere carries the
// caller's number, the client id, the GCLID, the token or the API secret.
func TestTracing(t *testing.T) {
	recv := tracingtest.NewReceiver(t)
	// Nothing is exported before the stop: what arrives was flushed by it.
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")
	e := newEnv(t)
	logs := &Logs{}
	f := e.start(t, logs, "--otlp-endpoint", recv.URL())
	c := newCall(1, "ANSWERED", 75)
	const gclid = "EAIaIQobChMIe2eTraceGclid0123456789"
	const senderTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	e.postTraced(t, f, c, gclid, "00-"+senderTrace+"-00f067aa0ba902b7-01")
	Eventually(t, 20*time.Second, "both GA4 events at the emulator", func() bool {
		lost, _ := account(c.expected(), e.received())
		return len(lost) == 0
	})
	if n := len(recv.Requests()); n != 0 {
		t.Errorf("%d export requests before the stop, want 0 (the batch is due in 10 minutes)", n)
	}
	// Stopping flushes the spans still buffered.
	if _, err := f.Stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, logs)
	}
	if errs := recv.Errors(); len(errs) > 0 {
		t.Fatalf("receiver could not decode the export: %v", errs)
	}
	spans := recv.Spans()
	for _, r := range recv.Requests() {
		if r.URL.Path != "/v1/traces" {
			t.Errorf("export to %s, want /v1/traces", r.URL.Path)
		}
	}

	intake := recv.Named(spanIntake)
	if len(intake) != 1 {
		t.Fatalf("%d intake spans, want 1; received: %v", len(intake), tracedNames(spans))
	}
	in := intake[0]
	if in.TraceID != senderTrace {
		t.Errorf("intake trace %s, want the sender's %s", in.TraceID, senderTrace)
	}
	for k, want := range map[string]string{"callforward.result": "accepted", "callforward.call_sid": c.sid, "http.response.status_code": "200"} {
		if in.Attrs[k] != want {
			t.Errorf("intake %s = %q, want %q", k, in.Attrs[k], want)
		}
	}
	if in.Resource["service.name"] != "callforward" || in.Resource["service.version"] == "" {
		t.Errorf("resource %v, want service.name callforward and a service.version", in.Resource)
	}

	var sends []tracingtest.Span
	for _, s := range spans {
		if strings.HasPrefix(s.Name, "deliver.") && s.Attrs["callforward.destination.type"] == "ga4" {
			sends = append(sends, s)
		}
	}
	if len(sends) == 0 {
		t.Fatalf("no GA4 send span; received: %v", tracedNames(spans))
	}
	linked := 0
	for _, s := range sends {
		for _, l := range s.Links {
			if l.TraceID == in.TraceID && l.SpanID == in.SpanID && l.Attrs["callforward.call_sid"] == c.sid {
				linked++
			}
		}
		clients := 0
		for _, cs := range recv.Named(spanClient) {
			if cs.ParentSpanID == s.SpanID && cs.TraceID == s.TraceID {
				clients++
				if cs.Attrs["http.response.status_code"] != "204" && cs.Attrs["http.response.status_code"] != "200" {
					t.Errorf("HTTP client span status %q, want Google's 2xx", cs.Attrs["http.response.status_code"])
				}
				if strings.Contains(cs.Attrs["url.full"], "?") {
					t.Errorf("HTTP client span url.full %q keeps a query string", cs.Attrs["url.full"])
				}
			}
		}
		if clients == 0 {
			t.Errorf("send span %s (%v) has no HTTP client span as a child", s.Name, s.Attrs)
		}
	}
	if want := len(c.expected()); linked != want {
		t.Errorf("%d links from GA4 sends to the intake span, want %d (one per delivery)", linked, want)
	}

	// The scan finds what is there: the Call.Sid is (it is an identifier).
	if _, ok := tracingtest.Find(spans, c.sid); !ok {
		t.Fatalf("the scan does not find the call sid %q in the spans", c.sid)
	}
	needles := []string{c.phone, strings.TrimPrefix(c.phone, "+"), c.clientID, gclid, e.token, "e2e-secret"}
	for _, n := range needles {
		if where, ok := tracingtest.Find(spans, n); ok {
			t.Errorf("exported spans carry personal data or a secret %q in %s", n, where)
		}
	}
	e.assertNoPersonalData(t, logs, []call{c})
	if !strings.Contains(logs.String(), `"msg":"tracing on"`) {
		t.Errorf(`no "tracing on" log line:\n%s`, logs)
	}
}

// TestTracingOffByDefault: without --otlp-endpoint nothing is exported,
// even with the standard OTEL_EXPORTER_OTLP_* endpoint variables set.
func TestTracingOffByDefault(t *testing.T) {
	recv := tracingtest.NewReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", recv.URL())
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", recv.URL()+"/v1/traces")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "10")
	e := newEnv(t)
	logs := &Logs{}
	f := e.start(t, logs)
	c := newCall(2, "ANSWERED", 75)
	e.postTraced(t, f, c, "EAIaIQobChMIe2eOffGclid", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	Eventually(t, 20*time.Second, "both GA4 events at the emulator", func() bool {
		lost, _ := account(c.expected(), e.received())
		return len(lost) == 0
	})
	if _, err := f.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if n := len(recv.Requests()); n != 0 {
		t.Errorf("%d export requests with tracing off, want 0", n)
	}
	if strings.Contains(logs.String(), "tracing on") {
		t.Error(`the log says "tracing on" without --otlp-endpoint`)
	}
}

func tracedNames(spans []tracingtest.Span) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}
