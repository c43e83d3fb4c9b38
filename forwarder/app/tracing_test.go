package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder/app"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/ingest"
)

const tracingRules = `
destinations:
  web:
    type: ga4
    measurement_id: G-TRACE1
rules:
  - name: every-call
    send:
      - to: web
        event: phone_call
  - name: answered
    when:
      disposition: [ANSWERED]
    send:
      - to: web
        event: answered_call
`

// The whole forwarder, traced into memory: a webhook's intake span (with
// its children) continues the sender's trace; each GA4 send is a span of
// its own linked to that intake span, with the HTTP request to Google as
// its child; no span carries the caller's number, the client id, the
// token or the API secret.
func TestTracingSpanTree(t *testing.T) {
	emu := emulator.New(emulator.Options{Seed: 1})
	google := httptest.NewServer(emu.Handler())
	defer google.Close()
	dir := t.TempDir()
	const token, secret = "trace-token-0123456789abcdef", "trace-api-secret-value"
	creds, _ := json.Marshal(map[string]any{
		"webhook_tokens":  []string{token},
		"ga4_api_secrets": map[string]string{"G-TRACE1": secret},
	})
	writeFile(t, filepath.Join(dir, "credentials.json"), string(creds))
	writeFile(t, filepath.Join(dir, "rules.yaml"), tracingRules)

	exp := tracetest.NewInMemoryExporter()
	cfg := app.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.Store.DataDir = filepath.Join(dir, "data")
	cfg.RulesPath = filepath.Join(dir, "rules.yaml")
	cfg.CredentialsPath = filepath.Join(dir, "credentials.json")
	cfg.GA4Endpoint = google.URL
	cfg.PollInterval = 10 * time.Millisecond
	cfg.Tracing.Exporter = exp
	cfg.Tracing.ServiceVersion = "v0.0.0-test"
	a, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()

	const phone, clientID = "+61412398765", "1987654321.1764119999"
	form := url.Values{
		"Action": {"Webhook"}, "Event": {"Call.Complete"}, "Account.Sid": {"AC1"}, "Property.Sid": {"PR1"},
		"Call.Sid": {"CAtree1"}, "Call.StartDate": {time.Now().UTC().Add(-time.Minute).Format("2006-01-02 15:04:05")},
		"Call.From": {phone}, "Call.Duration": {"75"}, "Call.Disposition": {"ANSWERED"},
		"Google.Analytics.ClientId": {clientID},
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.Addr()+httpapi.WebhookPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	const senderTrace = "5b8aa5a2d2c872e8321cf37308d69df2"
	req.Header.Set("traceparent", "00-"+senderTrace+"-051581bf3cb55c13-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %d", res.StatusCode)
	}

	// Two deliveries sent, one by one or in a batch. A send span ends
	// after its HTTP request's span.
	var spans tracetest.SpanStubs
	deadline := time.Now().Add(20 * time.Second)
	for {
		spans = exp.GetSpans()
		if sendsEnded(spans) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("spans so far: %v", spanNames(spans))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(emu.GA4Events()); n != 2 {
		t.Errorf("emulator got %d GA4 events, want 2", n)
	}

	intake := named(spans, "POST "+httpapi.WebhookPath)
	if len(intake) != 1 {
		t.Fatalf("intake spans %d, want 1; all: %v", len(intake), spanNames(spans))
	}
	in := intake[0]
	if in.SpanContext.TraceID().String() != senderTrace {
		t.Errorf("intake trace %s, want the sender's %s", in.SpanContext.TraceID(), senderTrace)
	}
	if got := attrs(in.Attributes); got["callforward.result"] != "accepted" || got["callforward.call_sid"] != "CAtree1" {
		t.Errorf("intake attributes %v, want result accepted and the call sid", got)
	}
	if got := in.Resource.Set(); !hasAttr(got.ToSlice(), "service.name", "callforward") || !hasAttr(got.ToSlice(), "service.version", "v0.0.0-test") {
		t.Errorf("resource %v, want service.name callforward and service.version v0.0.0-test", got.ToSlice())
	}
	for _, name := range []string{httpapi.SpanDecode, ingest.SpanEvaluate, ingest.SpanAccept} {
		c := named(spans, name)
		if len(c) != 1 || c[0].Parent.SpanID() != in.SpanContext.SpanID() {
			t.Errorf("%s: %d spans, want one child of the intake span", name, len(c))
		}
	}
	if got := attrs(named(spans, ingest.SpanEvaluate)[0].Attributes)["callforward.rules.matched"]; got != "2" {
		t.Errorf("rules matched %q, want 2", got)
	}

	sends := named(spans, deliver.SpanSend, deliver.SpanSendBatch)
	linkedRules := map[string]bool{}
	for _, s := range sends {
		if s.Parent.IsValid() {
			t.Errorf("%s has a parent; want a root linked to the intake", s.Name)
		}
		if s.SpanContext.TraceID() == in.SpanContext.TraceID() {
			t.Errorf("%s is in the intake's trace; want its own", s.Name)
		}
		for _, l := range s.Links {
			if l.SpanContext.SpanID() == in.SpanContext.SpanID() && l.SpanContext.TraceID() == in.SpanContext.TraceID() {
				linkedRules[attrs(l.Attributes)["callforward.rule"]] = true
			}
		}
		clients := 0
		for _, c := range spans {
			if c.SpanKind == trace.SpanKindClient && c.Parent.SpanID() == s.SpanContext.SpanID() {
				clients++
				ca := attrs(c.Attributes)
				if want := google.URL + "/mp/collect"; ca["url.full"] != want {
					t.Errorf("client span url.full %q, want %q", ca["url.full"], want)
				}
				if ca["http.response.status_code"] == "" {
					t.Errorf("client span without http.response.status_code: %v", ca)
				}
			}
		}
		if clients == 0 {
			t.Errorf("%s has no HTTP client span as a child", s.Name)
		}
	}
	if !linkedRules["every-call"] || !linkedRules["answered"] {
		t.Errorf("sends linked to the intake span for rules %v, want every-call and answered", linkedRules)
	}

	personal := []string{phone, strings.TrimPrefix(phone, "+"), clientID, "1987654321", token, secret}
	for _, s := range spans {
		all := append(append([]attribute.KeyValue{}, s.Attributes...), s.Resource.Attributes()...)
		for _, l := range s.Links {
			all = append(all, l.Attributes...)
		}
		for _, kv := range all {
			for _, p := range personal {
				if strings.Contains(kv.Value.String(), p) {
					t.Errorf("span %s attribute %s = %q carries %q", s.Name, kv.Key, kv.Value.String(), p)
				}
			}
		}
		for _, p := range personal {
			if strings.Contains(s.Status.Description, p) || strings.Contains(s.Name, p) {
				t.Errorf("span %s (status %q) carries %q", s.Name, s.Status.Description, p)
			}
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func attrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.String()
	}
	return m
}

func hasAttr(kvs []attribute.KeyValue, key, value string) bool {
	return attrs(kvs)[key] == value
}

func named(spans tracetest.SpanStubs, names ...string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		for _, n := range names {
			if s.Name == n {
				out = append(out, s)
			}
		}
	}
	return out
}

// sendsEnded counts the deliveries the ended send spans settled.
func sendsEnded(spans tracetest.SpanStubs) int {
	n := 0
	for _, s := range named(spans, deliver.SpanSend, deliver.SpanSendBatch) {
		if s.Name == deliver.SpanSend {
			n++
			continue
		}
		var size int
		fmt.Sscan(attrs(s.Attributes)["callforward.batch.size"], &size)
		n += size
	}
	return n
}

func spanNames(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
