package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/store"
)

// memStore is a small in-memory Accept with the store's dedup semantics.
type memStore struct {
	mu    sync.Mutex
	calls map[string][]forwarder.Delivery
	err   error
}

func (m *memStore) Accept(_ context.Context, c *forwarder.Call, ds []forwarder.Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if _, ok := m.calls[c.Sid]; ok {
		return store.ErrDuplicate
	}
	m.calls[c.Sid] = ds
	return nil
}

type plannerFunc func(*forwarder.Call) []forwarder.Delivery

func (f plannerFunc) Evaluate(c *forwarder.Call) []forwarder.Delivery { return f(c) }

func TestIngest(t *testing.T) {
	plan := plannerFunc(func(c *forwarder.Call) []forwarder.Delivery {
		if c.Event != forwarder.EventComplete {
			return nil
		}
		return []forwarder.Delivery{{ID: forwarder.DeliveryID(c.Sid, "r", "web"), CallSid: c.Sid}}
	})
	st := &memStore{calls: map[string][]forwarder.Delivery{}}
	var logs bytes.Buffer
	notified := 0
	svc := ingest.New(st, func() ingest.Planner { return plan }, ingest.Options{
		Notify: func() { notified++ },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	ctx := context.Background()
	tests := []struct {
		name string
		call forwarder.Call
		want ingest.Result
	}{
		{"new complete call", forwarder.Call{Sid: "CA1", Event: forwarder.EventComplete, From: "+61412345678"}, ingest.Result{Status: ingest.StatusAccepted, Deliveries: 1}},
		{"same sid again", forwarder.Call{Sid: "CA1", Event: forwarder.EventComplete}, ingest.Result{Status: ingest.StatusDuplicate}},
		{"initiate matches nothing", forwarder.Call{Sid: "CA2", Event: forwarder.EventInitiate}, ingest.Result{Status: ingest.StatusIgnored, Reason: "no delivery planned"}},
		{"ignored call is still deduplicated", forwarder.Call{Sid: "CA2", Event: forwarder.EventInitiate}, ingest.Result{Status: ingest.StatusDuplicate}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := svc.Ingest(ctx, &tt.call)
			if err != nil {
				t.Fatalf("Ingest: %v", err)
			}
			if got != tt.want {
				t.Errorf("Ingest = %+v, want %+v", got, tt.want)
			}
		})
	}
	if notified != 1 {
		t.Errorf("notify called %d times, want 1 (only for the call with deliveries)", notified)
	}
	if strings.Contains(logs.String(), "+61412345678") {
		t.Errorf("logs contain the caller's number:\n%s", logs.String())
	}
}

func TestIngestStoreFailure(t *testing.T) {
	boom := errors.New("disk full")
	st := &memStore{calls: map[string][]forwarder.Delivery{}, err: boom}
	svc := ingest.New(st, func() ingest.Planner {
		return plannerFunc(func(*forwarder.Call) []forwarder.Delivery { return nil })
	}, ingest.Options{})
	_, err := svc.Ingest(context.Background(), &forwarder.Call{Sid: "CA1"})
	if !errors.Is(err, boom) {
		t.Fatalf("Ingest error = %v, want it to wrap %v", err, boom)
	}
}
