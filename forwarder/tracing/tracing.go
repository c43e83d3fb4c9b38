// Package tracing sets up and shuts down OpenTelemetry tracing. It is off
// unless an OTLP endpoint is configured; off, every instrumented package
// gets no tracer provider and skips its spans after one nil check, so the
// webhook path pays nothing measurable.
//
// On, spans go through a batch processor to an OTLP/HTTP exporter
// (protobuf). The endpoint comes from Config.Endpoint alone (the
// --otlp-endpoint flag or FORWARDER_OTLP_ENDPOINT): an
// OTEL_EXPORTER_OTLP_ENDPOINT left in the environment by a platform does
// not turn tracing on. The exporter still reads the standard OTEL_EXPORTER_
// OTLP_* variables for what the flag does not set (headers such as an API
// key, TLS certificates, compression, timeout), and the resource reads
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
//
// Sampling is parent-based: a webhook that arrives with a sampled W3C
// traceparent is traced, one that arrives with an unsampled one is not,
// and new traces (webhooks without one, delivery sends) are sampled at
// Config.SampleRatio.
//
// Spans never carry personal data. Outgoing requests to Google are traced
// by Transport, which drops the query string from the recorded URL (the
// GA4 API secret travels there) and sends no trace context to Google.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// ShutdownTimeout bounds the flush of spans still buffered at shutdown,
// so an unreachable collector cannot hold up a stop.
const ShutdownTimeout = 5 * time.Second

// TracesPath is the OTLP/HTTP path added to an endpoint given without one.
const TracesPath = "/v1/traces"

// Config configures tracing. The zero value is off.
type Config struct {
	// Endpoint is the OTLP/HTTP collector URL, e.g. http://collector:4318
	// (TracesPath is added when the URL has no path) or the full traces
	// URL. Empty turns tracing off. An http URL is sent in clear.
	Endpoint string
	// SampleRatio is the fraction of new traces sampled, in [0, 1]. A
	// webhook that carries a traceparent follows its sampled flag instead.
	SampleRatio float64
	// ServiceName and ServiceVersion become the service.name and
	// service.version resource attributes (OTEL_SERVICE_NAME overrides
	// the name).
	ServiceName    string
	ServiceVersion string
	// Exporter, when set, receives every span synchronously instead of an
	// OTLP exporter, and turns tracing on without an Endpoint (tests).
	Exporter sdktrace.SpanExporter
	// Logger receives export failures (default: discarded).
	Logger *slog.Logger
}

// Enabled reports whether cfg turns tracing on.
func (c Config) Enabled() bool { return c.Endpoint != "" || c.Exporter != nil }

// Validate reports an endpoint or ratio that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Endpoint != "" {
		if _, err := tracesURL(c.Endpoint); err != nil {
			errs = append(errs, err)
		}
	}
	if math.IsNaN(c.SampleRatio) || c.SampleRatio < 0 || c.SampleRatio > 1 {
		errs = append(errs, fmt.Errorf("trace-sample-ratio %v: must be between 0 and 1", c.SampleRatio))
	}
	return errors.Join(errs...)
}

// tracesURL checks an endpoint and adds TracesPath when it has no path.
func tracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		// The parser's error quotes the URL, which may hold credentials.
		return "", errors.New("otlp-endpoint: not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("otlp-endpoint %q: want an http:// or https:// URL, e.g. http://collector:4318", Redact(endpoint))
	}
	if u.Host == "" {
		return "", fmt.Errorf("otlp-endpoint %q: no host", Redact(endpoint))
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = TracesPath
	}
	return u.String(), nil
}

// Tracing is the process's tracing: a tracer provider, on or off.
type Tracing struct {
	sdk *sdktrace.TracerProvider // nil when off
}

// New sets tracing up from cfg. Off (no endpoint, no exporter), it returns
// a Tracing whose Enabled is false, and contacts nothing. On, it installs
// an error handler that logs export failures to cfg.Logger; the exporter
// connects lazily, so an unreachable collector is not an error here.
func New(ctx context.Context, cfg Config) (*Tracing, error) {
	if !cfg.Enabled() {
		return &Tracing{}, nil
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	}
	if cfg.Exporter != nil {
		opts = append(opts, sdktrace.WithSyncer(cfg.Exporter))
	} else {
		endpoint, err := tracesURL(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("tracing: %w", err)
		}
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
		if err != nil {
			return nil, fmt.Errorf("tracing: otlp exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing export failed", "err", err)
	}))
	return &Tracing{sdk: sdktrace.NewTracerProvider(opts...)}, nil
}

// newResource describes this process: service name and version, SDK, and
// the OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES environment, which wins.
func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	var attrs []attribute.KeyValue
	if cfg.ServiceName != "" {
		attrs = append(attrs, attribute.String("service.name", cfg.ServiceName))
	}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", cfg.ServiceVersion))
	}
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attrs...),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return res, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t.sdk != nil }

// TracerProvider returns the provider to instrument with: the SDK's when
// on, nil when off (instrumented packages take nil as off).
func (t *Tracing) TracerProvider() trace.TracerProvider {
	if t.sdk == nil {
		return nil
	}
	return t.sdk
}

// Transport wraps rt so each request it sends is a client span, a child of
// the span in the request's context. The span's url.full has no query
// string or user info, and no trace context is added to the request: the
// remote is Google, which needs neither. Off, rt is returned as is.
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	if t.sdk == nil {
		return rt
	}
	return otelhttp.NewTransport(rt,
		otelhttp.WithTracerProvider(scrubProvider{t.sdk}),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
	)
}

// Shutdown exports the spans still buffered and stops the provider,
// within ShutdownTimeout (or ctx's deadline, if sooner). Off, it does
// nothing.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ShutdownTimeout)
	defer cancel()
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flush spans: %w", err)
	}
	return nil
}

// Redact returns u without user info, query or fragment, for a log line
// or an error: what is left names the collector and nothing secret.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	p.User, p.RawQuery, p.Fragment, p.RawFragment = nil, "", "", ""
	return p.String()
}
