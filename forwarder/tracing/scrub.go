package tracing

import (
	"context"
	"net/url"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// urlFull is the semantic-convention key of a request's whole URL.
const urlFull = attribute.Key("url.full")

// scrubProvider hands out tracers whose spans drop the query string, user
// info and fragment of any url.full attribute set on them. The HTTP client
// instrumentation records the whole request URL, and the GA4 Measurement
// Protocol carries its API secret in the query.
type scrubProvider struct{ trace.TracerProvider }

// Tracer returns a scrubbing tracer.
func (p scrubProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return scrubTracer{p.TracerProvider.Tracer(name, opts...)}
}

type scrubTracer struct{ trace.Tracer }

// Start starts a span whose attributes are scrubbed. The context holds
// the underlying span, which children only use as their parent.
func (t scrubTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	cfg := trace.NewSpanStartConfig(opts...)
	if attrs := cfg.Attributes(); hasURL(attrs) {
		opts = append(opts, trace.WithAttributes(scrubAttrs(attrs)...))
	}
	ctx, s := t.Tracer.Start(ctx, name, opts...)
	return ctx, scrubSpan{s}
}

type scrubSpan struct{ trace.Span }

// SetAttributes sets kv with any url.full scrubbed.
func (s scrubSpan) SetAttributes(kv ...attribute.KeyValue) {
	if hasURL(kv) {
		kv = scrubAttrs(kv)
	}
	s.Span.SetAttributes(kv...)
}

func hasURL(kv []attribute.KeyValue) bool {
	for _, a := range kv {
		if a.Key == urlFull {
			return true
		}
	}
	return false
}

// scrubAttrs returns a copy of kv whose url.full values keep only scheme,
// host and path.
func scrubAttrs(kv []attribute.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, len(kv))
	for i, a := range kv {
		if a.Key == urlFull {
			a = urlFull.String(scrubURL(a.Value.AsString()))
		}
		out[i] = a
	}
	return out
}

// scrubURL keeps scheme, host and path of u.
func scrubURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: p.Scheme, Host: p.Host, Path: p.Path, RawPath: p.RawPath}).String()
}
