// Package tracingtest is an OTLP/HTTP trace receiver for tests: an
// httptest server that decodes what an exporter sends (protobuf, optionally
// gzipped) into plain spans to assert on.
package tracingtest

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is one received span, with IDs in lowercase hex and attribute
// values rendered as strings.
type Span struct {
	Name         string
	TraceID      string
	SpanID       string
	ParentSpanID string // "" for a root span
	Kind         tracepb.Span_SpanKind
	StatusCode   tracepb.Status_StatusCode
	StatusMsg    string
	Attrs        map[string]string
	Links        []Link
	Resource     map[string]string
	Scope        string
}

// Link is a received span link.
type Link struct {
	TraceID string
	SpanID  string
	Attrs   map[string]string
}

// Receiver is a running OTLP/HTTP receiver.
type Receiver struct {
	srv *httptest.Server

	mu    sync.Mutex
	reqs  []*http.Request // headers and paths only; bodies are decoded
	spans []Span
	errs  []error
}

// NewReceiver starts a receiver, closed when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the receiver's base URL (the exporter adds /v1/traces).
func (r *Receiver) URL() string { return r.srv.URL }

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	spans, err := decode(req)
	r.mu.Lock()
	r.reqs = append(r.reqs, &http.Request{Method: req.Method, URL: req.URL, Header: req.Header.Clone()})
	if err != nil {
		r.errs = append(r.errs, err)
	}
	r.spans = append(r.spans, spans...)
	r.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func decode(req *http.Request) ([]Span, error) {
	if req.Method != http.MethodPost {
		return nil, fmt.Errorf("method %s, want POST", req.Method)
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		return nil, fmt.Errorf("content type %q, want application/x-protobuf", ct)
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	var msg collectorpb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &msg); err != nil {
		return nil, fmt.Errorf("decode ExportTraceServiceRequest: %w", err)
	}
	var out []Span
	for _, rs := range msg.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := Span{
					Name:         s.GetName(),
					TraceID:      hex.EncodeToString(s.GetTraceId()),
					SpanID:       hex.EncodeToString(s.GetSpanId()),
					ParentSpanID: hex.EncodeToString(s.GetParentSpanId()),
					Kind:         s.GetKind(),
					StatusCode:   s.GetStatus().GetCode(),
					StatusMsg:    s.GetStatus().GetMessage(),
					Attrs:        attrs(s.GetAttributes()),
					Resource:     res,
					Scope:        ss.GetScope().GetName(),
				}
				for _, l := range s.GetLinks() {
					sp.Links = append(sp.Links, Link{
						TraceID: hex.EncodeToString(l.GetTraceId()),
						SpanID:  hex.EncodeToString(l.GetSpanId()),
						Attrs:   attrs(l.GetAttributes()),
					})
				}
				out = append(out, sp)
			}
		}
	}
	return out, nil
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = value(kv.GetValue())
	}
	return m
}

// value renders an attribute value; arrays as comma-separated values.
func value(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return fmt.Sprint(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return fmt.Sprint(x.DoubleValue)
	case *commonpb.AnyValue_BoolValue:
		return fmt.Sprint(x.BoolValue)
	case *commonpb.AnyValue_ArrayValue:
		parts := make([]string, 0, len(x.ArrayValue.GetValues()))
		for _, e := range x.ArrayValue.GetValues() {
			parts = append(parts, value(e))
		}
		return strings.Join(parts, ",")
	case *commonpb.AnyValue_BytesValue:
		return hex.EncodeToString(x.BytesValue)
	}
	return ""
}

// Spans returns every span received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Requests returns the requests received so far (method, URL, headers).
func (r *Receiver) Requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.reqs...)
}

// Errors returns the decoding failures of requests received so far.
func (r *Receiver) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// Named returns the received spans called name.
func (r *Receiver) Named(name string) []Span {
	var out []Span
	for _, s := range r.Spans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// Find returns the first span in spans that contains needle in a name, an
// attribute (key or value), a link attribute, a status message or a
// resource attribute, and where it was found; ok is false when none does.
func Find(spans []Span, needle string) (where string, ok bool) {
	if needle == "" {
		return "", false
	}
	in := func(m map[string]string, what string) (string, bool) {
		for k, v := range m {
			if strings.Contains(k, needle) || strings.Contains(v, needle) {
				return what + " " + k, true
			}
		}
		return "", false
	}
	for _, s := range spans {
		if strings.Contains(s.Name, needle) || strings.Contains(s.StatusMsg, needle) {
			return "span " + s.Name, true
		}
		if w, ok := in(s.Attrs, "span "+s.Name+" attribute"); ok {
			return w, true
		}
		if w, ok := in(s.Resource, "resource attribute"); ok {
			return w, true
		}
		for _, l := range s.Links {
			if w, ok := in(l.Attrs, "span "+s.Name+" link attribute"); ok {
				return w, true
			}
		}
	}
	return "", false
}
