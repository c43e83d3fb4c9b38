package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

// memAccept is an in-memory store for benchmarks: what is measured is the
// HTTP handling, decoding and planning, not the disk.
type memAccept struct {
	mu   sync.Mutex
	sids map[string]int
}

func (m *memAccept) Accept(_ context.Context, c *forwarder.Call, ds []forwarder.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sids[c.Sid]; ok {
		return store.ErrDuplicate
	}
	m.sids[c.Sid] = len(ds)
	return nil
}

func (m *memAccept) Reject(context.Context, store.Rejected) error { return nil }
func (m *memAccept) Ping(context.Context) error                   { return nil }

// benchmarkIntake posts b.N distinct calls to the handler in process.
func benchmarkIntake(b *testing.B, tp trace.TracerProvider) {
	rules, err := mapping.Load("testdata/rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	st := &memAccept{sids: map[string]int{}}
	in := ingest.New(st, func() ingest.Planner { return rules }, ingest.Options{TracerProvider: tp})
	h := httpapi.New(httpapi.Config{Tokens: []string{tokenA}, TracerProvider: tp}, in, st, st)
	form := validForm("")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		form.Set("Call.Sid", "CAbench"+strconv.Itoa(i))
		req := httptest.NewRequest(http.MethodPost, httpapi.WebhookPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", formCT)
		req.Header.Set("Authorization", "Bearer "+tokenA)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// discard is a span exporter that drops what it is given.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkIntake measures one webhook through the handler, decoding,
// planning and an in-memory Accept: with tracing off (the default), and on
// with every span sampled and batched to an exporter that drops them.
func BenchmarkIntake(b *testing.B) {
	b.Run("tracing=off", func(b *testing.B) { benchmarkIntake(b, nil) })
	b.Run("tracing=on", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
		defer tp.Shutdown(context.Background())
		benchmarkIntake(b, tp)
	})
}
