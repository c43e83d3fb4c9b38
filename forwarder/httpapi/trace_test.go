package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/mapping"
)

// tracedServer serves the real handler with tracing into an in-memory
// exporter, over in (nil: the real ingest service on a bbolt store, traced
// too).
func tracedServer(t *testing.T, in httpapi.Ingester) (*httptest.Server, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if in == nil {
		rules, err := mapping.Load("testdata/rules.yaml")
		if err != nil {
			t.Fatal(err)
		}
		in = ingest.New(st, func() ingest.Planner { return rules }, ingest.Options{TracerProvider: tp})
	}
	h := httpapi.New(httpapi.Config{Tokens: []string{tokenA}, TracerProvider: tp}, in, st, st)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, exp
}

type ingestFunc func(ctx context.Context, call *forwarder.Call) (ingest.Result, error)

func (f ingestFunc) Ingest(ctx context.Context, call *forwarder.Call) (ingest.Result, error) {
	return f(ctx, call)
}

func spanAttrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

// serverSpan returns the one server span among spans.
func serverSpan(t *testing.T, spans tracetest.SpanStubs) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindServer {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d server spans, want 1", len(found))
	}
	return found[0]
}

// An accepted webhook is a server span continuing the sender's trace, with
// decoding, rules evaluation and the store's Accept as its children, and
// nothing personal in any attribute.
func TestTraceAccepted(t *testing.T) {
	srv, exp := tracedServer(t, nil)
	form := validForm("CAtraced1")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+httpapi.WebhookPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", formCT)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	const senderTrace, senderSpan = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	req.Header.Set("traceparent", "00-"+senderTrace+"-"+senderSpan+"-01")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	spans := exp.GetSpans()
	srvSpan := serverSpan(t, spans)
	if srvSpan.Name != "POST "+httpapi.WebhookPath {
		t.Errorf("server span %q, want %q", srvSpan.Name, "POST "+httpapi.WebhookPath)
	}
	if got := srvSpan.SpanContext.TraceID().String(); got != senderTrace {
		t.Errorf("trace %s, want the sender's %s", got, senderTrace)
	}
	if got := srvSpan.Parent.SpanID().String(); got != senderSpan || !srvSpan.Parent.IsRemote() {
		t.Errorf("parent %s (remote %v), want the sender's span %s", got, srvSpan.Parent.IsRemote(), senderSpan)
	}
	attrs := spanAttrs(srvSpan.Attributes)
	for k, v := range map[string]string{
		"http.request.method": "POST", "http.route": httpapi.WebhookPath, "http.response.status_code": "200",
		"callforward.result": "accepted", "callforward.call_sid": "CAtraced1",
	} {
		if attrs[k] != v {
			t.Errorf("server span %s = %q, want %q", k, attrs[k], v)
		}
	}
	children := map[string]bool{}
	for _, s := range spans {
		if s.Parent.SpanID() == srvSpan.SpanContext.SpanID() {
			children[s.Name] = true
		}
	}
	for _, name := range []string{httpapi.SpanDecode, ingest.SpanEvaluate, ingest.SpanAccept} {
		if !children[name] {
			t.Errorf("no %s child of the server span; children: %v", name, children)
		}
	}
	personal := []string{form.Get("Call.From"), "412345678", form.Get("Google.Analytics.ClientId"), "1873452911", tokenA}
	for _, s := range spans {
		for k, v := range spanAttrs(s.Attributes) {
			for _, p := range personal {
				if strings.Contains(v, p) || strings.Contains(k, p) {
					t.Errorf("span %s attribute %s = %q carries %q", s.Name, k, v, p)
				}
			}
		}
	}
}

// Every outcome of a webhook names itself on the server span.
func TestTraceResults(t *testing.T) {
	down := ingestFunc(func(context.Context, *forwarder.Call) (ingest.Result, error) {
		return ingest.Result{}, errors.New("store unreachable")
	})
	bad := validForm("CAbad")
	bad.Set("Call.Duration", "not-a-number")
	tests := []struct {
		name       string
		in         httpapi.Ingester
		body       string
		token      string
		wantStatus int
		wantResult string
		wantError  bool // span status Error
		wantField  string
	}{
		{"duplicate", nil, "", tokenA, http.StatusOK, "duplicate", false, ""},
		{"rejected", nil, bad.Encode(), tokenA, http.StatusBadRequest, "rejected", false, "Call.Duration"},
		{"refused", nil, "", "wrong-token-wrong-token", http.StatusUnauthorized, "refused", false, ""},
		{"unavailable", down, "", tokenA, http.StatusServiceUnavailable, "unavailable", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, exp := tracedServer(t, tt.in)
			body := tt.body
			if body == "" {
				body = validForm("CAresult").Encode()
			}
			post := func() int {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+httpapi.WebhookPath, bytes.NewReader([]byte(body)))
				req.Header.Set("Content-Type", formCT)
				req.Header.Set("Authorization", "Bearer "+tt.token)
				res, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if tt.wantResult == "duplicate" {
				post()
				exp.Reset()
			}
			if got := post(); got != tt.wantStatus {
				t.Fatalf("status %d, want %d", got, tt.wantStatus)
			}
			s := serverSpan(t, exp.GetSpans())
			if got := spanAttrs(s.Attributes)["callforward.result"]; got != tt.wantResult {
				t.Errorf("result %q, want %q", got, tt.wantResult)
			}
			if (s.Status.Code == codes.Error) != tt.wantError {
				t.Errorf("span status %v, want error: %v", s.Status.Code, tt.wantError)
			}
			if tt.wantField == "" {
				return
			}
			for _, c := range exp.GetSpans() {
				if c.Name == httpapi.SpanDecode {
					if got := spanAttrs(c.Attributes)["callforward.field"]; got != tt.wantField || c.Status.Code != codes.Error {
						t.Errorf("decode span field %q status %v, want %q and Error", got, c.Status.Code, tt.wantField)
					}
					return
				}
			}
			t.Errorf("no %s span", httpapi.SpanDecode)
		})
	}
}

// Without a tracer provider, the ingest step sees no span, even when the
// request carries a traceparent.
func TestTraceOff(t *testing.T) {
	var seen trace.SpanContext
	in := ingestFunc(func(ctx context.Context, call *forwarder.Call) (ingest.Result, error) {
		seen = trace.SpanContextFromContext(ctx)
		return ingest.Result{Status: ingest.StatusAccepted, Deliveries: 1}, nil
	})
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Tokens: []string{tokenA}}, in, st, st))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+httpapi.WebhookPath, strings.NewReader(validForm("CAoff").Encode()))
	req.Header.Set("Content-Type", formCT)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	if seen.IsValid() {
		t.Errorf("ingest ran in span %v with tracing off", seen.SpanID())
	}
}
