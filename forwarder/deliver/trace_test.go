package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
)

// intake is the span context stamped on the deliveries as their intake
// span, and its traceparent.
var intake = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	TraceFlags: trace.FlagsSampled,
	Remote:     true,
})

const intakeTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// acceptTraced stores a call sid with one delivery per rule carrying the
// intake traceparent.
func acceptTraced(t *testing.T, st *countingQueue, sid, typ string, rules ...string) {
	t.Helper()
	call := &forwarder.Call{Sid: sid, Event: forwarder.EventComplete, StartDate: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)}
	ds := make([]forwarder.Delivery, len(rules))
	for i, r := range rules {
		ds[i] = forwarder.Delivery{
			ID: forwarder.DeliveryID(sid, r, "web"), CallSid: sid, Rule: r, Destination: "web",
			Type: typ, CallTime: call.StartDate, Trace: intakeTraceparent,
		}
	}
	if err := st.Accept(context.Background(), call, ds); err != nil {
		t.Fatalf("accept %s: %v", sid, err)
	}
}

// spanRecorder is a sender that keeps the span context each send ran in.
type spanRecorder struct {
	mu   sync.Mutex
	seen map[string]trace.SpanContext // by delivery ID
	fail map[string]error
}

func (s *spanRecorder) Send(ctx context.Context, d forwarder.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[d.ID] = trace.SpanContextFromContext(ctx)
	return s.fail[d.ID]
}

func (s *spanRecorder) sendContext(id string) trace.SpanContext {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[id]
}

func newTracer() (*tracetest.InMemoryExporter, *sdktrace.TracerProvider) {
	exp := tracetest.NewInMemoryExporter()
	return exp, sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
}

// waitSpans waits until exp holds n spans and returns them.
func waitSpans(t *testing.T, exp *tracetest.InMemoryExporter, n int) tracetest.SpanStubs {
	t.Helper()
	var spans tracetest.SpanStubs
	waitFor(t, fmt.Sprintf("%d spans", n), func() (bool, string) {
		spans = exp.GetSpans()
		return len(spans) >= n, fmt.Sprintf("%d spans", len(spans))
	})
	return spans
}

func attrMap(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// A single send is a root span linked to the delivery's intake span, in
// whose context the sender runs, and records the delivery's identity and
// its outcome; a failure records its class and Google's status, not its
// message.
func TestTraceSend(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, time.Now)
	acceptTraced(t, st, "CAtrace1", typeFake, "ok", "refused")
	refusedID := forwarder.DeliveryID("CAtrace1", "refused", "web")
	sender := &spanRecorder{seen: map[string]trace.SpanContext{}, fail: map[string]error{
		refusedID: forwarder.Permanent("http_400", errors.New("bad request: client_id 123.456 refused")),
	}}
	exp, tp := newTracer()
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers: 2, PollInterval: 5 * time.Millisecond, TracerProvider: tp,
	})
	stop := start(t, d)
	settled(t, st)
	spans := waitSpans(t, exp, 2)
	stop()

	want := map[string]map[string]string{
		"ok":      {"callforward.outcome": "delivered"},
		"refused": {"callforward.outcome": "dead", "callforward.error.kind": "permanent", "callforward.error.code": "http_400", "callforward.google.http_status": "400"},
	}
	for _, s := range spans {
		if s.Name != deliver.SpanSend {
			t.Errorf("span %q, want %q", s.Name, deliver.SpanSend)
			continue
		}
		attrs := attrMap(s.Attributes)
		rule := attrs["callforward.rule"]
		for k, v := range map[string]string{
			"callforward.call_sid": "CAtrace1", "callforward.destination.type": typeFake,
			"callforward.destination": "web", "callforward.attempt": "1",
		} {
			if attrs[k] != v {
				t.Errorf("rule %s: %s = %q, want %q", rule, k, attrs[k], v)
			}
		}
		for k, v := range want[rule] {
			if attrs[k] != v {
				t.Errorf("rule %s: %s = %q, want %q", rule, k, attrs[k], v)
			}
		}
		for k, v := range attrs {
			if k == "callforward.error.message" || v == "bad request: client_id 123.456 refused" {
				t.Errorf("rule %s: attribute %s carries the error message", rule, k)
			}
		}
		if s.Parent.IsValid() {
			t.Errorf("rule %s: send span has parent %v, want a root", rule, s.Parent.SpanID())
		}
		if len(s.Links) != 1 || s.Links[0].SpanContext.TraceID() != intake.TraceID() || s.Links[0].SpanContext.SpanID() != intake.SpanID() {
			t.Errorf("rule %s: links %+v, want one to the intake span %v", rule, s.Links, intake)
		}
		if got := sender.sendContext(forwarder.DeliveryID("CAtrace1", rule, "web")); got.SpanID() != s.SpanContext.SpanID() {
			t.Errorf("rule %s: the sender ran in span %v, want the send span %v", rule, got.SpanID(), s.SpanContext.SpanID())
		}
		wantStatus := codes.Unset
		if rule == "refused" {
			wantStatus = codes.Error
			if s.Status.Description != "http_400" {
				t.Errorf("status description %q, want the code http_400", s.Status.Description)
			}
		}
		if s.Status.Code != wantStatus {
			t.Errorf("rule %s: status %v, want %v", rule, s.Status.Code, wantStatus)
		}
	}
}

// A batch is one span linked to every delivery's intake span, with the
// count of each outcome and the distinct failure codes.
func TestTraceSendBatch(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, time.Now)
	acceptTraced(t, st, "CAbatch", typeFake, "a", "b", "c")
	sender := &batchFake{fail: map[string]error{
		forwarder.DeliveryID("CAbatch", "b", "web"): forwarder.Permanent("INVALID_GCLID", errors.New("bad click")),
	}}
	exp, tp := newTracer()
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers: 2, PollInterval: 5 * time.Millisecond, BatchWindow: 20 * time.Millisecond, TracerProvider: tp,
	})
	stop := start(t, d)
	settled(t, st)
	spans := waitSpans(t, exp, 1)
	stop()
	if len(spans) != 1 || spans[0].Name != deliver.SpanSendBatch {
		t.Fatalf("spans %v, want one %s", names(spans), deliver.SpanSendBatch)
	}
	s := spans[0]
	attrs := attrMap(s.Attributes)
	for k, v := range map[string]string{
		"callforward.batch.size": "3", "callforward.destination": "web", "callforward.destination.type": typeFake,
		"callforward.outcome.delivered": "2", "callforward.outcome.dead": "1", "callforward.error.codes": `["INVALID_GCLID"]`,
	} {
		if attrs[k] != v {
			t.Errorf("%s = %q, want %q", k, attrs[k], v)
		}
	}
	if s.Status.Code != codes.Error {
		t.Errorf("status %v, want Error (a delivery failed)", s.Status.Code)
	}
	if len(s.Links) != 3 {
		t.Fatalf("%d links, want one per delivery", len(s.Links))
	}
	rules := map[string]bool{}
	for _, l := range s.Links {
		if l.SpanContext.TraceID() != intake.TraceID() {
			t.Errorf("link to trace %v, want %v", l.SpanContext.TraceID(), intake.TraceID())
		}
		rules[attrMap(l.Attributes)["callforward.rule"]] = true
	}
	if !rules["a"] || !rules["b"] || !rules["c"] {
		t.Errorf("links name rules %v, want a, b and c", rules)
	}
}

// Without a tracer provider, sends run without a span.
func TestTraceOff(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, time.Now)
	acceptTraced(t, st, "CAoff", typeFake, "a")
	sender := &spanRecorder{seen: map[string]trace.SpanContext{}}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{Workers: 1, PollInterval: 5 * time.Millisecond})
	stop := start(t, d)
	settled(t, st)
	stop()
	if sc := sender.sendContext(forwarder.DeliveryID("CAoff", "a", "web")); sc.IsValid() {
		t.Errorf("the send ran in span %v with tracing off", sc.SpanID())
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
