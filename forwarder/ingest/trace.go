package ingest

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// tracerName names this package's spans' instrumentation scope.
const tracerName = "github.com/callforward/callforward/forwarder/ingest"

// Span names and attributes of intake.
const (
	SpanEvaluate = "rules.evaluate"
	SpanAccept   = "store.accept"

	// AttrRulesMatched is how many rules planned a delivery for the call.
	AttrRulesMatched = attribute.Key("callforward.rules.matched")
	// AttrDeliveries is how many deliveries were planned.
	AttrDeliveries = attribute.Key("callforward.deliveries")
	// AttrResult is the webhook's status: accepted, duplicate or ignored.
	AttrResult = attribute.Key("callforward.result")
)

// startSpan starts a child of ctx's span, or returns ctx and nil when
// tracing is off.
func (s *Service) startSpan(ctx context.Context, name string) (context.Context, trace.Span) {
	if s.tracer == nil {
		return ctx, nil
	}
	return s.tracer.Start(ctx, name)
}

// traceEvaluated records the plan on the evaluation span, ends it, and
// stamps every delivery with the intake span's traceparent, so that their
// sends can link back to this webhook's trace. The intake span is ctx's
// (the HTTP server span); without one, the evaluation span stands in.
func traceEvaluated(ctx context.Context, span trace.Span, ds []forwarder.Delivery) {
	if span == nil {
		return
	}
	rules := map[string]struct{}{}
	for _, d := range ds {
		rules[d.Rule] = struct{}{}
	}
	span.SetAttributes(AttrRulesMatched.Int(len(rules)), AttrDeliveries.Int(len(ds)))
	span.End()
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		sc = span.SpanContext()
	}
	if !sc.IsSampled() {
		return
	}
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), carrier)
	tp := carrier.Get("traceparent")
	for i := range ds {
		ds[i].Trace = tp
	}
}

// traceAccepted ends the store span with the store's verdict on a call
// with n planned deliveries.
func traceAccepted(span trace.Span, err error, n int) {
	if span == nil {
		return
	}
	switch {
	case errors.Is(err, store.ErrDuplicate):
		span.SetAttributes(AttrResult.String(string(StatusDuplicate)))
	case err != nil:
		span.SetStatus(codes.Error, "the store did not take the call")
	case n == 0:
		span.SetAttributes(AttrResult.String(string(StatusIgnored)))
	default:
		span.SetAttributes(AttrResult.String(string(StatusAccepted)))
	}
	span.End()
}
