// Package ingest turns a decoded call into stored work: it plans the
// call's deliveries under the current rules and hands call and plan to the
// store in one atomic Accept. It is the step between the HTTP handler and
// the delivery workers, and the only place that decides what a webhook's
// reply says.
//
// Every call is stored, even one no rule matches: the dedup mark then
// still answers later copies, and a stored call can be re-planned after the
// rules are fixed.
//
// When the rules ask whether the caller called before
// (first_call_within_days), Ingest first reads the caller's latest earlier
// call from the store and puts it on the call (Call.History), and Accept
// records this call for the caller's next one. Reading and recording are
// two steps: two calls from one number handled at the same moment may both
// count as first calls.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Store keeps a call and its planned deliveries atomically; it returns
// store.ErrDuplicate for a Sid it already holds.
type Store interface {
	Accept(ctx context.Context, call *forwarder.Call, deliveries []forwarder.Delivery) error
}

// Planner decides which deliveries a call gets (mapping.Rules does).
type Planner interface {
	Evaluate(call *forwarder.Call) []forwarder.Delivery
}

// reasoner is an optional capability of a Planner: saying why a call got
// no delivery (mapping.Rules has it). It runs only for such calls.
type reasoner interface {
	WhyNone(call *forwarder.Call) string
}

// Status is the outcome reported to the webhook's sender.
type Status string

// The statuses a webhook reply can carry.
const (
	StatusAccepted  Status = "accepted"
	StatusDuplicate Status = "duplicate"
	StatusIgnored   Status = "ignored"
)

// Result is what became of one webhook.
type Result struct {
	Status     Status `json:"status"`
	Deliveries int    `json:"deliveries,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Service plans and stores calls.
type Service struct {
	store   Store
	planner func() Planner
	notify  func()
	rec     Recorder
	log     *slog.Logger
	tracer  trace.Tracer // nil: tracing off
	// history looks callers up; nil: never.
	history CallerHistory
}

// Recorder counts outcomes (metrics implement it).
type Recorder interface {
	Webhook(result string)
}

type nopRecorder struct{}

func (nopRecorder) Webhook(string) {}

// Options tune a Service. Zero values are fine.
type Options struct {
	// Recorder counts every stored webhook by status.
	Recorder Recorder
	// Notify, when set, is called after a call with deliveries was stored,
	// so idle delivery workers can start at once.
	Notify func()
	Logger *slog.Logger
	// TracerProvider, when set, traces rules evaluation and the store's
	// Accept as children of the span in Ingest's context, and stamps each
	// planned delivery with that span's traceparent (Delivery.Trace).
	TracerProvider trace.TracerProvider
	// History looks up callers' earlier calls for rules that ask about
	// them (see lookUpHistory). When nil, the store is used if it has
	// PreviousCall.
	History CallerHistory
}

// New returns a Service storing into st. planner is called once per call
// so that rules can be swapped (reloaded) between calls.
func New(st Store, planner func() Planner, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Notify == nil {
		opts.Notify = func() {}
	}
	if opts.Recorder == nil {
		opts.Recorder = nopRecorder{}
	}
	s := &Service{store: st, planner: planner, notify: opts.Notify, rec: opts.Recorder, log: opts.Logger}
	if opts.TracerProvider != nil {
		s.tracer = opts.TracerProvider.Tracer(tracerName)
	}
	s.history = opts.History
	if h, ok := st.(CallerHistory); ok && s.history == nil {
		s.history = h
	}
	return s
}

// Ingest plans and stores call. An error means nothing was stored and the
// sender must be told to try again.
func (s *Service) Ingest(ctx context.Context, call *forwarder.Call) (Result, error) {
	planner := s.planner()
	s.lookUpHistory(ctx, planner, call)
	_, span := s.startSpan(ctx, SpanEvaluate)
	deliveries := planner.Evaluate(call)
	traceEvaluated(ctx, span, deliveries)
	actx, span := s.startSpan(ctx, SpanAccept)
	err := s.store.Accept(actx, call, deliveries)
	traceAccepted(span, err, len(deliveries))
	switch {
	case errors.Is(err, store.ErrDuplicate):
		s.log.InfoContext(ctx, "webhook duplicate", "call_sid", call.Sid)
		s.rec.Webhook(string(StatusDuplicate))
		return Result{Status: StatusDuplicate}, nil
	case err != nil:
		return Result{}, fmt.Errorf("ingest: store call: %w", err)
	}
	if len(deliveries) == 0 {
		reason := "no delivery planned"
		if r, ok := planner.(reasoner); ok {
			reason = r.WhyNone(call)
		}
		s.log.InfoContext(ctx, "webhook ignored", "call", call, "reason", reason)
		s.rec.Webhook(string(StatusIgnored))
		return Result{Status: StatusIgnored, Reason: reason}, nil
	}
	s.notify()
	s.rec.Webhook(string(StatusAccepted))
	s.log.InfoContext(ctx, "webhook accepted", "call", call, "deliveries", len(deliveries))
	return Result{Status: StatusAccepted, Deliveries: len(deliveries)}, nil
}
