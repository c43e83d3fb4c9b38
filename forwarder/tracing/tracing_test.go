package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder/tracing"
	"github.com/callforward/callforward/forwarder/tracing/tracingtest"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     tracing.Config
		wantErr string // "" for valid
	}{
		{"off", tracing.Config{}, ""},
		{"http base URL", tracing.Config{Endpoint: "http://collector:4318", SampleRatio: 1}, ""},
		{"https full URL", tracing.Config{Endpoint: "https://otlp.example.com/v1/traces", SampleRatio: 0.1}, ""},
		{"no scheme", tracing.Config{Endpoint: "collector:4318", SampleRatio: 1}, "want an http:// or https:// URL"},
		{"grpc scheme", tracing.Config{Endpoint: "grpc://collector:4317", SampleRatio: 1}, "want an http:// or https:// URL"},
		{"no host", tracing.Config{Endpoint: "http:///v1/traces", SampleRatio: 1}, "no host"},
		{"unparsable", tracing.Config{Endpoint: "http://a b\x7f", SampleRatio: 1}, "not a URL"},
		{"ratio above 1", tracing.Config{Endpoint: "http://c:4318", SampleRatio: 1.5}, "between 0 and 1"},
		{"negative ratio", tracing.Config{SampleRatio: -0.1}, "between 0 and 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// A refused endpoint is quoted without the credentials it may carry.
func TestValidateDoesNotQuoteCredentials(t *testing.T) {
	err := tracing.Config{Endpoint: "ftp://user:s3cret@collector/?api_key=k3y", SampleRatio: 1}.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want an error for an ftp URL")
	}
	for _, secret := range []string{"s3cret", "k3y"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q quotes %q", err, secret)
		}
	}
}

func TestOff(t *testing.T) {
	tr, err := tracing.New(context.Background(), tracing.Config{SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Error("Enabled() = true without an endpoint")
	}
	if tp := tr.TracerProvider(); tp != nil {
		t.Errorf("TracerProvider() = %T, want nil when off", tp)
	}
	rt := http.DefaultTransport
	if got := tr.Transport(rt); got != rt {
		t.Errorf("Transport() wrapped the transport (%T) when off", got)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown() = %v", err)
	}
}

// The standard exporter variables (here the endpoint and the headers) do
// not turn tracing on by themselves.
func TestOTELEndpointAloneDoesNotEnable(t *testing.T) {
	recv := tracingtest.NewReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", recv.URL())
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", recv.URL()+"/v1/traces")
	tr, err := tracing.New(context.Background(), tracing.Config{SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Fatal("Enabled() = true with only OTEL_EXPORTER_OTLP_* set")
	}
}

// Spans reach an OTLP/HTTP receiver at /v1/traces, with the service's
// resource attributes and the exporter's standard header variable, when
// Shutdown flushes them.
func TestExportOTLPHTTP(t *testing.T) {
	recv := tracingtest.NewReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=test-key")
	t.Setenv("OTEL_SERVICE_NAME", "")
	tr, err := tracing.New(context.Background(), tracing.Config{
		Endpoint: recv.URL(), SampleRatio: 1, ServiceName: "callforward", ServiceVersion: "v9.8.7",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() {
		t.Fatal("Enabled() = false with an endpoint")
	}
	_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "unit-of-work",
		trace.WithAttributes(attribute.String("k", "v")))
	span.End()
	if n := len(recv.Requests()); n != 0 {
		t.Fatalf("%d export requests before the batch was due or flushed, want 0", n)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	if errs := recv.Errors(); len(errs) > 0 {
		t.Fatalf("receiver could not decode: %v", errs)
	}
	reqs := recv.Requests()
	if len(reqs) == 0 {
		t.Fatal("no export request after Shutdown")
	}
	if p := reqs[0].URL.Path; p != tracing.TracesPath {
		t.Errorf("export path %q, want %q", p, tracing.TracesPath)
	}
	if h := reqs[0].Header.Get("X-Api-Key"); h != "test-key" {
		t.Errorf("X-Api-Key header %q, want the value of OTEL_EXPORTER_OTLP_HEADERS", h)
	}
	spans := recv.Named("unit-of-work")
	if len(spans) != 1 {
		t.Fatalf("received %d spans named unit-of-work, want 1 (all: %+v)", len(spans), recv.Spans())
	}
	s := spans[0]
	if s.Attrs["k"] != "v" {
		t.Errorf("attribute k = %q, want v", s.Attrs["k"])
	}
	for k, want := range map[string]string{"service.name": "callforward", "service.version": "v9.8.7", "telemetry.sdk.language": "go"} {
		if got := s.Resource[k]; got != want {
			t.Errorf("resource %s = %q, want %q", k, got, want)
		}
	}
}

// A full traces URL is used as given.
func TestExportFullURL(t *testing.T) {
	recv := tracingtest.NewReceiver(t)
	tr, err := tracing.New(context.Background(), tracing.Config{Endpoint: recv.URL() + "/custom/traces", SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "x")
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := recv.Requests()
	if len(reqs) != 1 || reqs[0].URL.Path != "/custom/traces" {
		t.Fatalf("requests %v, want one to /custom/traces", paths(reqs))
	}
}

func paths(reqs []*http.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.URL.Path)
	}
	return out
}

// Sampling is parent-based: with ratio 0 a new trace is not recorded, but
// a span whose remote parent was sampled is.
func TestSamplingParentBased(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr, err := tracing.New(context.Background(), tracing.Config{Exporter: exp, SampleRatio: 0})
	if err != nil {
		t.Fatal(err)
	}
	tracer := tr.TracerProvider().Tracer("test")
	_, root := tracer.Start(context.Background(), "new-trace")
	root.End()
	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
	_, child := tracer.Start(trace.ContextWithRemoteSpanContext(context.Background(), parent), "continued")
	child.End()
	var names []string
	for _, s := range exp.GetSpans() {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "continued" {
		t.Fatalf("recorded spans %v, want only [continued]", names)
	}
	if got := exp.GetSpans()[0].Parent.TraceID(); got != parent.TraceID() {
		t.Errorf("continued span's trace %v, want the parent's %v", got, parent.TraceID())
	}
}

// Transport records a client span per request, as a child of the
// request's span, without the query string (the GA4 API secret travels
// there) and without sending trace context to the remote.
func TestTransport(t *testing.T) {
	var gotTraceparent []string
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotTraceparent = append(gotTraceparent, r.Header.Get("traceparent"))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer remote.Close()
	exp := tracetest.NewInMemoryExporter()
	tr, err := tracing.New(context.Background(), tracing.Config{Exporter: exp, SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr.Transport(http.DefaultTransport)}
	ctx, parent := tr.TracerProvider().Tracer("test").Start(context.Background(), "send")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, remote.URL+"/mp/collect?measurement_id=G-1&api_secret=s3cr3t-value", nil)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	parent.End()

	if len(gotTraceparent) != 1 || gotTraceparent[0] != "" {
		t.Errorf("remote got traceparent %q, want none", gotTraceparent)
	}
	var client0 *tracetest.SpanStub
	spans := exp.GetSpans()
	for i := range spans {
		if spans[i].SpanKind == trace.SpanKindClient {
			client0 = &spans[i]
		}
	}
	if client0 == nil {
		t.Fatalf("no client span among %d spans", len(spans))
	}
	if client0.Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("client span's parent %v, want the request context's span %v", client0.Parent.SpanID(), parent.SpanContext().SpanID())
	}
	got := map[attribute.Key]string{}
	for _, a := range client0.Attributes {
		got[a.Key] = a.Value.String()
		if strings.Contains(a.Value.String(), "s3cr3t-value") {
			t.Errorf("attribute %s = %q carries the API secret", a.Key, a.Value.String())
		}
	}
	if want := remote.URL + "/mp/collect"; got["url.full"] != want {
		t.Errorf("url.full = %q, want %q", got["url.full"], want)
	}
	if got["http.response.status_code"] != "204" {
		t.Errorf("http.response.status_code = %q, want 204", got["http.response.status_code"])
	}
}

// Shutdown gives up on a collector that does not answer within the
// caller's deadline (or ShutdownTimeout).
func TestShutdownBounded(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer hung.Close()
	defer close(release)
	tr, err := tracing.New(context.Background(), tracing.Config{Endpoint: hung.URL, SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.TracerProvider().Tracer("test").Start(context.Background(), "x")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = tr.Shutdown(ctx)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Shutdown took %v with a 300ms deadline", took)
	}
	if err == nil {
		t.Error("Shutdown() = nil, want an error: the spans were not exported")
	}
}
