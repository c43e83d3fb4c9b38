package deliver

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// tracerName names this package's instrumentation scope.
const tracerName = "github.com/callforward/callforward/forwarder/deliver"

// Span names and attributes of delivery. A send is a span of its own
// trace, linked to the intake span of each delivery it carries
// (Delivery.Trace): intake and delivery happen at different times, often
// in different processes. Its children are the HTTP requests to Google.
const (
	SpanSend      = "deliver.send"
	SpanSendBatch = "deliver.send_batch"

	AttrCallSid     = attribute.Key("callforward.call_sid")
	AttrType        = attribute.Key("callforward.destination.type")
	AttrDestination = attribute.Key("callforward.destination")
	AttrRule        = attribute.Key("callforward.rule")
	AttrAttempt     = attribute.Key("callforward.attempt")
	// AttrOutcome is delivered, retry, dead or lease_lost (single sends).
	AttrOutcome = attribute.Key("callforward.outcome")
	// AttrErrorKind and AttrErrorCode classify a failure (transient,
	// retry_after, permanent; an HTTP status as http_NNN or Google's code).
	AttrErrorKind = attribute.Key("callforward.error.kind")
	AttrErrorCode = attribute.Key("callforward.error.code")
	// AttrHTTPStatus is Google's HTTP status, when the failure was one.
	AttrHTTPStatus = attribute.Key("callforward.google.http_status")
	// AttrBatchSize is the number of deliveries in a batch.
	AttrBatchSize = attribute.Key("callforward.batch.size")
	// AttrOutcomePrefix prefixes a batch's count of each outcome
	// (callforward.outcome.delivered, ...).
	AttrOutcomePrefix = "callforward.outcome."
	// AttrErrorCodes lists a batch's distinct failure codes.
	AttrErrorCodes = attribute.Key("callforward.error.codes")
)

// maxLinks bounds the links of one batch span (the SDK's default limit).
const maxLinks = 128

// sendSpan is the span of one send or batch send, settled job by job
// (a batch's jobs settle concurrently).
type sendSpan struct {
	span  trace.Span
	batch bool

	mu       sync.Mutex
	outcomes map[string]int
	codes    map[string]struct{}
}

type sendSpanKey struct{}

// traceSend starts the span of sending jobs (one job, or a batch for a
// BatchSender) and returns a context carrying it, so the sender's HTTP
// requests become its children. Off, it returns ctx and nil.
func (d *Deliverer) traceSend(ctx context.Context, jobs []store.Job) (context.Context, *sendSpan) {
	if d.tracer == nil || len(jobs) == 0 {
		return ctx, nil
	}
	first := jobs[0].Delivery
	_, batch := d.batchKey(first)
	attrs := []attribute.KeyValue{AttrType.String(first.Type)}
	name := SpanSend
	if batch {
		name = SpanSendBatch
		attrs = append(attrs, AttrBatchSize.Int(len(jobs)))
		if dest, ok := sameDestination(jobs); ok {
			attrs = append(attrs, AttrDestination.String(dest))
		}
	} else {
		attrs = append(attrs,
			AttrCallSid.String(first.CallSid),
			AttrDestination.String(first.Destination),
			AttrRule.String(first.Rule),
			AttrAttempt.Int(jobs[0].Attempts+1))
	}
	var links []trace.Link
	for _, j := range jobs {
		if len(links) == maxLinks {
			break
		}
		if sc := intakeSpan(j.Delivery.Trace); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{
				AttrCallSid.String(j.Delivery.CallSid),
				AttrRule.String(j.Delivery.Rule),
				AttrDestination.String(j.Delivery.Destination),
			}})
		}
	}
	// A new root: the intake's trace ended long ago, and this send may
	// be one of many retries.
	ctx, span := d.tracer.Start(ctx, name, trace.WithNewRoot(), trace.WithAttributes(attrs...), trace.WithLinks(links...))
	s := &sendSpan{span: span, batch: batch}
	return context.WithValue(ctx, sendSpanKey{}, s), s
}

// sameDestination returns the destination of jobs when they share one.
func sameDestination(jobs []store.Job) (string, bool) {
	dest := jobs[0].Delivery.Destination
	for _, j := range jobs[1:] {
		if j.Delivery.Destination != dest {
			return "", false
		}
	}
	return dest, true
}

// intakeSpan parses a stored traceparent; invalid when there is none.
func intakeSpan(traceparent string) trace.SpanContext {
	if traceparent == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": traceparent})
	return trace.SpanContextFromContext(ctx)
}

// traceSettled records the settled outcome of one job on ctx's send span.
func (d *Deliverer) traceSettled(ctx context.Context, outcome string, err error) {
	if d.tracer == nil {
		return
	}
	if s, ok := ctx.Value(sendSpanKey{}).(*sendSpan); ok {
		s.settled(outcome, err)
	}
}

func (s *sendSpan) settled(outcome string, err error) {
	var se *forwarder.SendError
	if err != nil {
		se = forwarder.Classify(err)
	}
	if !s.batch {
		s.span.SetAttributes(AttrOutcome.String(outcome))
		if se != nil {
			s.span.SetAttributes(AttrErrorKind.String(se.Kind.String()), AttrErrorCode.String(se.Code))
			if status, ok := httpStatus(se.Code); ok {
				s.span.SetAttributes(AttrHTTPStatus.Int(status))
			}
			// The code, not the message: a message may quote Google's
			// reply, which can echo what was sent.
			s.span.SetStatus(codes.Error, se.Code)
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outcomes == nil {
		s.outcomes, s.codes = map[string]int{}, map[string]struct{}{}
	}
	s.outcomes[outcome]++
	if se != nil {
		s.codes[se.Code] = struct{}{}
	}
}

// end ends the span; a batch gets its outcome counts and failure codes.
func (s *sendSpan) end() {
	if s == nil {
		return
	}
	if s.batch {
		s.mu.Lock()
		for outcome, n := range s.outcomes {
			s.span.SetAttributes(attribute.Int(AttrOutcomePrefix+outcome, n))
		}
		if len(s.codes) > 0 {
			list := make([]string, 0, len(s.codes))
			for c := range s.codes {
				list = append(list, c)
			}
			s.span.SetAttributes(AttrErrorCodes.StringSlice(list))
			s.span.SetStatus(codes.Error, strings.Join(list, ","))
		}
		s.mu.Unlock()
	}
	s.span.End()
}

// httpStatus reads the status out of an "http_NNN" failure code.
func httpStatus(code string) (int, bool) {
	n, ok := strings.CutPrefix(code, "http_")
	if !ok {
		return 0, false
	}
	status, err := strconv.Atoi(n)
	return status, err == nil
}
