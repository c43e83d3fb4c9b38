package spool_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/spool"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

var (
	_ ingest.Store  = (*spool.Store)(nil)
	_ spool.Primary = (*redis.Store)(nil)
)

// quietLogger drops go-redis's own log lines about failed dials.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

// prefixes gives every Redis store of this test binary a prefix of its own.
var prefixes atomic.Int64

// openRedis opens a Redis store on srv that fails at once, without
// retries, while srv is down. It is closed when t ends.
func openRedis(t *testing.T, srv *redistest.Server) *redis.Store {
	t.Helper()
	prefix := fmt.Sprintf("spool-test-%d", prefixes.Add(1))
	r, err := redis.Open(t.Context(), srv.URL()+"?max_retries=-1", store.Options{}, redis.Options{Prefix: prefix})
	if err != nil {
		t.Fatalf("redis.Open = %v, want nil", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// openSpool opens a spool in dir in front of primary, closed when t ends.
func openSpool(t *testing.T, dir string, primary spool.Primary, opts spool.Options) *spool.Store {
	t.Helper()
	s, err := spool.Open(dir, primary, opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v, want nil", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// waitUp waits until primary answers Ping again, for a bounded number of
// tries: the client's pool may hold on to its dial errors for a moment.
func waitUp(t *testing.T, primary spool.Primary) {
	t.Helper()
	var err error
	for range 200 {
		if err = primary.Ping(t.Context()); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("primary Ping after restart = %v, want nil", err)
}

var epoch = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// newCall returns a completed call with sid.
func newCall(sid string) *forwarder.Call {
	duration := 95
	return &forwarder.Call{
		Action:      "Call.Complete",
		Event:       forwarder.EventComplete,
		AccountSid:  "AC0001",
		PropertySid: "PR0001",
		Sid:         sid,
		StartDate:   epoch,
		From:        "+61400000001",
		To:          "+61290000001",
		Duration:    &duration,
		Disposition: forwarder.DispositionAnswered,
		GAClientID:  "1234567890.1700000000",
		GCLID:       "test-gclid",
	}
}

// plan returns one GA4 delivery of call per rule.
func plan(call *forwarder.Call, rules ...string) []forwarder.Delivery {
	out := make([]forwarder.Delivery, 0, len(rules))
	for _, rule := range rules {
		out = append(out, forwarder.Delivery{
			ID:          forwarder.DeliveryID(call.Sid, rule, "web"),
			CallSid:     call.Sid,
			Rule:        rule,
			Destination: "web",
			Type:        forwarder.DestinationGA4,
			CallTime:    call.StartDate,
			GA4: &forwarder.GA4Event{
				MeasurementID: "G-TEST000001",
				ClientID:      call.GAClientID,
				Name:          rule,
				Params:        map[string]any{"duration": 95, "outcome": "ANSWERED"},
				Time:          call.StartDate,
			},
		})
	}
	return out
}

// wantInRedis checks that r holds call and exactly the jobs of deliveries.
func wantInRedis(t *testing.T, r *redis.Store, call *forwarder.Call, deliveries []forwarder.Delivery) {
	t.Helper()
	got, err := r.Call(t.Context(), call.Sid)
	if err != nil {
		t.Fatalf("Redis Call(%s) = %v, want the call", call.Sid, err)
	}
	if g, w := jsonOf(t, got), jsonOf(t, call); g != w {
		t.Errorf("Redis Call(%s) = %s, want %s", call.Sid, g, w)
	}
	jobs, err := r.Jobs(t.Context(), call.Sid)
	if err != nil {
		t.Fatalf("Redis Jobs(%s) = %v", call.Sid, err)
	}
	var gotIDs, wantIDs []string
	for _, j := range jobs {
		gotIDs = append(gotIDs, j.Job.Delivery.ID)
		if j.State != store.JobPending {
			t.Errorf("Redis job %s is %s, want %s", j.Job.Delivery.ID, j.State, store.JobPending)
		}
	}
	for _, d := range deliveries {
		wantIDs = append(wantIDs, d.ID)
	}
	slices.Sort(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("Redis Jobs(%s) = %v, want %v", call.Sid, gotIDs, wantIDs)
	}
}

// wantPending checks how many calls s has spooled.
func wantPending(t *testing.T, s *spool.Store, want int) {
	t.Helper()
	n, err := s.Pending()
	if err != nil || n != want {
		t.Fatalf("Pending() = %d, %v; want %d, nil", n, err, want)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return string(b)
}

// fakePrimary is a primary whose answers the test decides.
type fakePrimary struct {
	accept func(call *forwarder.Call) error
	ping   func() error
}

func (f fakePrimary) Accept(_ context.Context, call *forwarder.Call, _ []forwarder.Delivery) error {
	return f.accept(call)
}

func (f fakePrimary) Ping(context.Context) error { return f.ping() }

// errDown is a fake primary's outage.
var errDown = errors.New("connection refused")

// down is a fake primary that cannot be reached.
var down = fakePrimary{
	accept: func(*forwarder.Call) error { return errDown },
	ping:   func() error { return errDown },
}
