package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/webhook"
)

// tracerName names this package's instrumentation scope.
const tracerName = "github.com/callforward/callforward/forwarder/httpapi"

// Span names and attributes of the webhook endpoint. The server span is
// named "METHOD /webhooks/fonedynamics".
const (
	SpanDecode = "webhook.decode"

	// AttrResult is what became of the webhook: accepted, duplicate or
	// ignored (200), rejected (400, 415: undecodable, kept), refused (401,
	// 403, 413, 429: not from the configured sender, or over a limit),
	// unavailable (503: not stored, to be sent again) or error (500).
	AttrResult = attribute.Key("callforward.result")
	// AttrCallSid is the call's Call.Sid, an identifier the logs carry too.
	AttrCallSid = attribute.Key("callforward.call_sid")
	// AttrField is the parameter an undecodable webhook failed on, as the
	// logs show it ("(other)" when it could be personal data).
	AttrField = attribute.Key("callforward.field")
)

// traceContext is the W3C Trace Context propagator: a webhook sender that
// sends a traceparent has the intake span joined to its trace.
var traceContext = propagation.TraceContext{}

// traceWebhook is the webhook route's first handler when tracing is on: it
// runs the rest inside a server span, continuing the sender's trace when
// the request carries a traceparent.
func (h *Handler) traceWebhook(c *gin.Context) {
	r := c.Request
	ctx := traceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	ctx, span := h.tracer.Start(ctx, r.Method+" "+WebhookPath,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			semconv.HTTPRequestMethodKey.String(r.Method),
			semconv.HTTPRoute(WebhookPath),
			semconv.URLPath(WebhookPath),
			semconv.URLScheme(scheme),
			semconv.NetworkProtocolVersion(strconv.Itoa(r.ProtoMajor)+"."+strconv.Itoa(r.ProtoMinor)),
		))
	c.Request = r.WithContext(ctx)
	defer func() {
		if v := recover(); v != nil {
			span.SetAttributes(AttrResult.String("error"))
			span.SetStatus(codes.Error, "panic")
			span.End()
			panic(v) // recoverPanic answers and logs it
		}
		status := c.Writer.Status()
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		if result := resultOf(status); result != "" {
			span.SetAttributes(AttrResult.String(result))
		}
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
	}()
	c.Next()
}

// resultOf names the outcome of a reply status; "" for 200, whose result
// the ingest step sets (traceIngested).
func resultOf(status int) string {
	switch status {
	case http.StatusOK:
		return ""
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return "rejected"
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return "refused"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	return "error"
}

// spanOf returns the webhook's server span, nil when tracing is off.
func (h *Handler) spanOf(c *gin.Context) trace.Span {
	if h.tracer == nil {
		return nil
	}
	return trace.SpanFromContext(c.Request.Context())
}

// traceDecode starts the decoding span; the returned func ends it with the
// decoding error, if any.
func (h *Handler) traceDecode(c *gin.Context) func(error) {
	if h.tracer == nil {
		return func(error) {}
	}
	_, span := h.tracer.Start(c.Request.Context(), SpanDecode)
	return func(err error) {
		if err != nil {
			field := "body"
			if fe, ok := errors.AsType[*webhook.FieldError](err); ok {
				field = fe.Field
			}
			span.SetAttributes(AttrField.String(logField(field)))
			span.SetStatus(codes.Error, "undecodable webhook")
		}
		span.End()
	}
}

// ingestContext is the context the call is ingested with: c itself (so
// cancellation is gin's, as without tracing), carrying the server span
// when tracing is on, which then also gets the call's Sid.
func (h *Handler) ingestContext(c *gin.Context, call *forwarder.Call) context.Context {
	span := h.spanOf(c)
	if span == nil {
		return c
	}
	span.SetAttributes(AttrCallSid.String(call.Sid))
	return trace.ContextWithSpan(c, span)
}

// traceIngested records a stored call's result on the server span.
func (h *Handler) traceIngested(c *gin.Context, result string) {
	if span := h.spanOf(c); span != nil {
		span.SetAttributes(AttrResult.String(result))
	}
}
