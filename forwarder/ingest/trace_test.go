package ingest_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ingest"
)

// twoRules plans two deliveries under rule "a" and one under "b" for a
// completed call, none otherwise.
var twoRules = plannerFunc(func(c *forwarder.Call) []forwarder.Delivery {
	if c.Event != forwarder.EventComplete {
		return nil
	}
	return []forwarder.Delivery{
		{ID: forwarder.DeliveryID(c.Sid, "a", "web"), CallSid: c.Sid, Rule: "a"},
		{ID: forwarder.DeliveryID(c.Sid, "a", "ads"), CallSid: c.Sid, Rule: "a"},
		{ID: forwarder.DeliveryID(c.Sid, "b", "web"), CallSid: c.Sid, Rule: "b"},
	}
})

func attrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// Evaluation and Accept are children of the intake span; every planned
// delivery carries the intake span's traceparent; each span says what
// happened.
func TestTraceIngest(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tests := []struct {
		name       string
		call       forwarder.Call
		storeErr   error
		wantMatch  string // callforward.rules.matched
		wantResult string // store.accept's callforward.result ("" when it failed)
		wantStamp  bool   // deliveries carry the traceparent
	}{
		{"accepted", forwarder.Call{Sid: "CAt1", Event: forwarder.EventComplete}, nil, "2", "accepted", true},
		{"duplicate", forwarder.Call{Sid: "CAt1", Event: forwarder.EventComplete}, nil, "2", "duplicate", true},
		{"ignored", forwarder.Call{Sid: "CAt2", Event: forwarder.EventInitiate}, nil, "0", "ignored", false},
		{"store down", forwarder.Call{Sid: "CAt3", Event: forwarder.EventComplete}, errors.New("disk full"), "2", "", true},
	}
	st := &memStore{calls: map[string][]forwarder.Delivery{}}
	svc := ingest.New(st, func() ingest.Planner { return twoRules }, ingest.Options{TracerProvider: tp})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp.Reset()
			st.err = tt.storeErr
			ctx, intake := tp.Tracer("test").Start(context.Background(), "intake")
			call := tt.call
			_, _ = svc.Ingest(ctx, &call)
			intake.End()

			byName := map[string]tracetest.SpanStub{}
			for _, s := range exp.GetSpans() {
				byName[s.Name] = s
			}
			eval, ok := byName[ingest.SpanEvaluate]
			if !ok {
				t.Fatalf("no %s span in %d spans", ingest.SpanEvaluate, len(exp.GetSpans()))
			}
			acc, ok := byName[ingest.SpanAccept]
			if !ok {
				t.Fatalf("no %s span", ingest.SpanAccept)
			}
			for _, s := range []tracetest.SpanStub{eval, acc} {
				if s.Parent.SpanID() != intake.SpanContext().SpanID() {
					t.Errorf("%s: parent %v, want the intake span %v", s.Name, s.Parent.SpanID(), intake.SpanContext().SpanID())
				}
			}
			if got := attrs(eval.Attributes)["callforward.rules.matched"]; got != tt.wantMatch {
				t.Errorf("rules.matched = %q, want %q", got, tt.wantMatch)
			}
			if got := attrs(acc.Attributes)["callforward.result"]; got != tt.wantResult {
				t.Errorf("store.accept result = %q, want %q", got, tt.wantResult)
			}
			if wantErr := tt.storeErr != nil; (acc.Status.Code == codes.Error) != wantErr {
				t.Errorf("store.accept status %v, want error: %v", acc.Status.Code, wantErr)
			}
			if tt.storeErr != nil || tt.name == "duplicate" {
				return
			}
			stored := st.calls[tt.call.Sid]
			if len(stored) == 0 && tt.wantStamp {
				t.Fatal("nothing stored")
			}
			want := "00-" + intake.SpanContext().TraceID().String() + "-" + intake.SpanContext().SpanID().String() + "-01"
			for _, d := range stored {
				if d.Trace != want {
					t.Errorf("delivery %s: Trace %q, want %q", d.ID, d.Trace, want)
				}
			}
		})
	}
}

// Without a tracer provider nothing is stamped, even inside a span.
func TestTraceIngestOff(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	st := &memStore{calls: map[string][]forwarder.Delivery{}}
	svc := ingest.New(st, func() ingest.Planner { return twoRules }, ingest.Options{})
	ctx, span := tp.Tracer("test").Start(context.Background(), "intake")
	if _, err := svc.Ingest(ctx, &forwarder.Call{Sid: "CAoff", Event: forwarder.EventComplete}); err != nil {
		t.Fatal(err)
	}
	span.End()
	if n := len(exp.GetSpans()); n != 1 {
		t.Errorf("%d spans, want only the test's own", n)
	}
	for _, d := range st.calls["CAoff"] {
		if d.Trace != "" {
			t.Errorf("delivery %s: Trace %q with tracing off", d.ID, d.Trace)
		}
	}
}

// An unsampled intake span stamps nothing: its trace is not exported, so
// a link to it would lead nowhere.
func TestTraceIngestUnsampled(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	st := &memStore{calls: map[string][]forwarder.Delivery{}}
	svc := ingest.New(st, func() ingest.Planner { return twoRules }, ingest.Options{TracerProvider: tp})
	ctx, span := tp.Tracer("test").Start(context.Background(), "intake")
	defer span.End()
	if span.SpanContext().IsSampled() {
		t.Fatal("test setup: span sampled under NeverSample")
	}
	if _, err := svc.Ingest(ctx, &forwarder.Call{Sid: "CAun", Event: forwarder.EventComplete}); err != nil {
		t.Fatal(err)
	}
	for _, d := range st.calls["CAun"] {
		if d.Trace != "" {
			t.Errorf("delivery %s: Trace %q for an unsampled trace", d.ID, d.Trace)
		}
	}
}
