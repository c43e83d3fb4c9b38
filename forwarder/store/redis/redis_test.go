package redis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// quietLogger drops go-redis's own log lines: the outage tests make its
// pool report every failed dial.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

// prefixes makes every store of this test binary a prefix of its own, so
// that stores on one server, in parallel subtests, never meet.
var prefixes atomic.Int64

func uniquePrefix() string { return fmt.Sprintf("test-%d", prefixes.Add(1)) }

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		return open(t, srv.URL(), opts, redis.Options{Prefix: uniquePrefix()})
	})
}

// TestDurable runs each subtest on a server of its own, stopped and
// started again before every handle but the first: what the suite checks
// after a restart has been through a server restart too.
func TestDurable(t *testing.T) {
	storetest.RunDurable(t, true, func(t *testing.T, opts store.Options) func() (store.Store, error) {
		srv := redistest.Start(t)
		opened := 0
		return func() (store.Store, error) {
			if opened++; opened > 1 {
				srv.Stop()
				srv.Restart()
			}
			return redis.Open(t.Context(), srv.URL(), opts, redis.Options{})
		}
	})
}

// open opens a store and closes it when t ends.
func open(t testing.TB, url string, opts store.Options, o redis.Options) *redis.Store {
	t.Helper()
	s, err := redis.Open(context.Background(), url, opts, o)
	if err != nil {
		t.Fatalf("Open(%s) = %v, want nil", url, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	})
	return s
}

// client returns a plain client of srv, closed when t ends.
func client(t testing.TB, srv *redistest.Server) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var epoch = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func testOptions() (store.Options, *storetest.Clock) {
	clock := storetest.NewClock(epoch)
	return store.Options{DedupWindow: 24 * time.Hour, Lease: time.Minute, Now: clock.Now}, clock
}

// testCall returns a call sid with one GA4 delivery per rule.
func testCall(sid string, rules ...string) (*forwarder.Call, []forwarder.Delivery) {
	duration := 42
	call := &forwarder.Call{
		Event:       forwarder.EventComplete,
		AccountSid:  "AC0001",
		PropertySid: "PR0001",
		Sid:         sid,
		StartDate:   epoch.Add(-time.Minute),
		Duration:    &duration,
		Disposition: forwarder.DispositionAnswered,
		GAClientID:  "1234567890.1700000000",
	}
	var ds []forwarder.Delivery
	for _, rule := range rules {
		ds = append(ds, forwarder.Delivery{
			ID:          forwarder.DeliveryID(sid, rule, "web"),
			CallSid:     sid,
			Rule:        rule,
			Destination: "web",
			Type:        forwarder.DestinationGA4,
			CallTime:    call.StartDate,
			GA4:         &forwarder.GA4Event{MeasurementID: "G-TEST", ClientID: call.GAClientID, Name: rule, Time: call.StartDate},
		})
	}
	return call, ds
}

// workloadCaller is the caller key of the workload's calls.
var workloadCaller = forwarder.CallerKey("AC0001", "+61400000001")

// workload gives s a call sid with one of everything: a done mark, a
// retried job, a dead letter, a claimed job (added by Replan); a caller
// history entry, a rejected request and a heartbeat. It returns the call.
func workload(t *testing.T, s *redis.Store, sid string) *forwarder.Call {
	t.Helper()
	ctx := t.Context()
	call, ds := testCall(sid, "acked", "buried", "retried", "claimed")
	call.History = &forwarder.CallerHistory{Key: workloadCaller, At: call.StartDate}
	if err := s.Accept(ctx, call, ds[:3]); err != nil {
		t.Fatalf("Accept = %v", err)
	}
	if n, err := s.Replan(ctx, sid, ds, store.ReplanOptions{}); err != nil || n != 1 {
		t.Fatalf("Replan = %d, %v; want 1, nil", n, err)
	}
	if sids, err := s.CallSids(ctx, epoch, 0); err != nil || !slices.Contains(sids, sid) {
		t.Fatalf("CallSids = %v, %v; want %s among them", sids, err, sid)
	}
	jobs, err := s.Claim(ctx, 4)
	if err != nil || len(jobs) != 4 {
		t.Fatalf("Claim(4) = %d jobs, %v; want 4, nil", len(jobs), err)
	}
	err = errors.Join(
		s.Ack(ctx, jobs[0]),
		s.Bury(ctx, jobs[1], "invalid", "400"),
		s.Retry(ctx, jobs[2], epoch.Add(time.Hour), "timeout"),
		s.Reject(ctx, store.Rejected{Status: 401, Reason: "bad token", Method: "GET", Query: "Call.Sid=CA1"}),
		s.Ping(ctx),
	)
	if err != nil {
		t.Fatalf("settling = %v", err)
	}
	return call
}

// snapshot is everything a store shows, for comparing a store before and
// after a restart.
type snapshot struct {
	Stats    store.Stats
	Call     *forwarder.Call
	Jobs     []store.JobInfo
	Dead     []store.DeadLetter
	Rejected []store.Rejected
	// Previous is the workload caller's latest call before now.
	Previous time.Time
}

func takeSnapshot(t *testing.T, s *redis.Store, sid string) snapshot {
	t.Helper()
	ctx := t.Context()
	var snap snapshot
	var err error
	if snap.Stats, err = s.Stats(ctx); err != nil {
		t.Fatalf("Stats = %v", err)
	}
	if snap.Call, err = s.Call(ctx, sid); err != nil {
		t.Fatalf("Call = %v", err)
	}
	if snap.Jobs, err = s.Jobs(ctx, sid); err != nil {
		t.Fatalf("Jobs = %v", err)
	}
	if snap.Dead, err = s.DeadLetters(ctx, 0); err != nil {
		t.Fatalf("DeadLetters = %v", err)
	}
	if snap.Rejected, err = s.RejectedRequests(ctx, 0); err != nil {
		t.Fatalf("RejectedRequests = %v", err)
	}
	prev, ok, err := s.PreviousCall(ctx, workloadCaller, epoch)
	if err != nil || !ok {
		t.Fatalf("PreviousCall = %v, %v, %v; want the workload's call", prev, ok, err)
	}
	snap.Previous = prev
	return snap
}

// dump returns every key of the server with its serialized value.
func dump(t *testing.T, c *goredis.Client) map[string]string {
	t.Helper()
	ctx := t.Context()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatalf("KEYS = %v", err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		if out[k], err = c.Dump(ctx, k).Result(); err != nil {
			t.Fatalf("DUMP %s = %v", k, err)
		}
	}
	return out
}

func TestKeysShareHashTag(t *testing.T) {
	srv := redistest.Start(t)
	opts, clock := testOptions()
	s := open(t, srv.URL(), opts, redis.Options{})
	workload(t, s, "CA-1")
	clock.Advance(48 * time.Hour)
	if _, err := s.Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep = %v", err)
	}
	workload(t, s, "CA-2")

	var keys []string
	iter := client(t, srv).Scan(t.Context(), 0, "*", 100).Iterator()
	for iter.Next(t.Context()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN = %v", err)
	}
	slices.Sort(keys)
	want := []string{
		"{callforward}:accepted", "{callforward}:callers", "{callforward}:callers:at",
		"{callforward}:calls", "{callforward}:dead",
		"{callforward}:dedup", "{callforward}:done", "{callforward}:due",
		"{callforward}:heartbeat", "{callforward}:jobs", "{callforward}:plans",
		"{callforward}:rejected", "{callforward}:rejected:at",
		"{callforward}:tallies", "{callforward}:tally:hours", "{callforward}:tally:mark",
	}
	if !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, want %q (all under the hash tag {callforward})", keys, want)
	}
}

func TestTTLOnlyOnExpiringKeys(t *testing.T) {
	srv := redistest.Start(t)
	opts, _ := testOptions()
	s := open(t, srv.URL(), opts, redis.Options{Prefix: "ttl"})
	workload(t, s, "CA-ttl")
	// Keys that hold only what expires with the window live a day past
	// it after their last write; the others hold unsettled work and never
	// expire.
	expiring := map[string]bool{"dedup": true, "calls": true, "accepted": true, "rejected": true, "rejected:at": true, "heartbeat": true}
	// The caller history lives as long past its own retention.
	history := map[string]bool{"callers": true, "callers:at": true}
	retention := opts.WithDefaults().CallerHistory
	c := client(t, srv)
	for _, name := range []string{"dedup", "calls", "accepted", "jobs", "plans", "due", "done", "dead", "rejected", "rejected:at", "heartbeat", "callers", "callers:at"} {
		key := "{ttl}:" + name
		ttl, err := c.PTTL(t.Context(), key).Result()
		if err != nil {
			t.Fatalf("PTTL %s = %v", key, err)
		}
		if history[name] {
			if lo, hi := retention, retention+24*time.Hour; ttl <= lo || ttl > hi {
				t.Errorf("TTL of %s = %v, want between %v and %v", key, ttl, lo, hi)
			}
		} else if expiring[name] {
			if lo, hi := opts.DedupWindow, opts.DedupWindow+24*time.Hour; ttl <= lo || ttl > hi {
				t.Errorf("TTL of %s = %v, want between %v and %v", key, ttl, lo, hi)
			}
		} else if ttl != -1 {
			t.Errorf("TTL of %s = %v, want none (-1ns)", key, ttl)
		}
	}
}

func TestPrefixesIsolate(t *testing.T) {
	srv := redistest.Start(t)
	opts, _ := testOptions()
	a := open(t, srv.URL(), opts, redis.Options{Prefix: "a"})
	b := open(t, srv.URL(), opts, redis.Options{Prefix: "b"})
	call, ds := testCall("CA-iso", "r")
	for _, s := range []*redis.Store{a, b} {
		if err := s.Accept(t.Context(), call, ds); err != nil {
			t.Fatalf("Accept = %v, want nil in each prefix", err)
		}
	}
	if err := a.Accept(t.Context(), call, ds); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("second Accept under prefix a = %v, want ErrDuplicate", err)
	}
	jobs, err := b.Claim(t.Context(), 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim under prefix b = %d jobs, %v; want 1, nil", len(jobs), err)
	}
	if st, err := a.Stats(t.Context()); err != nil || counts(st) != (store.Stats{Calls: 1, Pending: 1}) {
		t.Fatalf("Stats under prefix a = %+v, %v; want 1 call, 1 pending", st, err)
	}
}

// counts returns st without EarliestDue (the conformance suite checks it).
func counts(st store.Stats) store.Stats {
	st.EarliestDue = time.Time{}
	return st
}

func TestDuplicateWritesNothing(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	opts, clock := testOptions()
	s := open(t, srv.URL(), opts, redis.Options{})
	call := workload(t, s, "CA-work")
	before := dump(t, c)

	clock.Advance(time.Hour)
	again, ds := testCall(call.Sid, "acked", "new")
	if err := s.Accept(t.Context(), again, ds); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Accept of a duplicate = %v, want ErrDuplicate", err)
	}
	after := dump(t, c)
	if !maps.Equal(after, before) {
		t.Fatalf("a duplicate changed the data: keys before %v, after %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
}

func TestAcceptFailureWritesNothing(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	opts, _ := testOptions()
	s := open(t, srv.URL(), opts, redis.Options{Prefix: "p"})
	ctx := t.Context()
	call, ds := testCall("CA-corrupt", "a", "b", "c")
	// The second delivery's record is corrupt: the script fails on it,
	// after having decided about the first one.
	if err := c.HSet(ctx, "{p}:jobs", ds[1].ID, "not json").Err(); err != nil {
		t.Fatalf("HSET = %v", err)
	}
	before := dump(t, c)

	err := s.Accept(ctx, call, ds)
	if err == nil || errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Accept over a corrupt record = %v, want a failure", err)
	}
	if after := dump(t, c); !maps.Equal(after, before) {
		t.Fatalf("a failed Accept wrote: keys before %v, after %v", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
	if _, err := s.Call(ctx, call.Sid); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Call after the failed Accept = %v, want ErrNotFound", err)
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	srv := redistest.Start(t)
	opts, _ := testOptions()
	s := open(t, srv.URL(), opts, redis.Options{})
	call := workload(t, s, "CA-work")
	before := takeSnapshot(t, s, call.Sid)

	srv.Stop()
	srv.Restart()
	fresh := open(t, srv.URL(), opts, redis.Options{})
	for name, s := range map[string]*redis.Store{"new store": fresh, "old store": s} {
		after := takeSnapshot(t, s, call.Sid)
		wantSameJSON(t, name+" after restart", after, before)
	}
	_, ds := testCall(call.Sid, "acked")
	if err := fresh.Accept(t.Context(), call, ds); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Accept after restart = %v, want ErrDuplicate", err)
	}
}

func TestOutage(t *testing.T) {
	srv := redistest.Start(t)
	opts, _ := testOptions()
	s := open(t, srv.URL(), opts, redis.Options{})
	call := workload(t, s, "CA-work")
	ctx := t.Context()

	srv.Stop()
	fresh, ds := testCall("CA-during", "r")
	ops := []struct {
		name string
		op   func(ctx context.Context) error
	}{
		{"Accept", func(ctx context.Context) error { return s.Accept(ctx, fresh, ds) }},
		{"Reject", func(ctx context.Context) error { return s.Reject(ctx, store.Rejected{Status: 400}) }},
		{"Claim", func(ctx context.Context) error { _, err := s.Claim(ctx, 1); return err }},
		{"Ack", func(ctx context.Context) error { return s.Ack(ctx, store.Job{Delivery: ds[0], Lease: "x"}) }},
		{"RetryDead", func(ctx context.Context) error { return s.RetryDead(ctx, ds[0].ID) }},
		{"Ping", s.Ping},
		{"Stats", func(ctx context.Context) error { _, err := s.Stats(ctx); return err }},
		{"Sweep", func(ctx context.Context) error { _, err := s.Sweep(ctx); return err }},
		{"Call", func(ctx context.Context) error { _, err := s.Call(ctx, call.Sid); return err }},
		{"Jobs", func(ctx context.Context) error { _, err := s.Jobs(ctx, call.Sid); return err }},
		{"DeadLetters", func(ctx context.Context) error { _, err := s.DeadLetters(ctx, 0); return err }},
		{"Replan", func(ctx context.Context) error {
			_, err := s.Replan(ctx, call.Sid, nil, store.ReplanOptions{})
			return err
		}},
		{"CallSids", func(ctx context.Context) error { _, err := s.CallSids(ctx, time.Time{}, 0); return err }},
	}
	// The client retries for a few seconds before it gives up: run the
	// operations side by side. The deadline is a safety net: each call
	// must fail by itself, long before it.
	down, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	errs := make([]error, len(ops))
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Go(func() { errs[i] = op.op(down) })
	}
	wg.Wait()
	for i, op := range ops {
		if err := errs[i]; err == nil || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s while Redis is down = %v, want a connection error", op.name, err)
		}
	}
	if _, err := redis.Open(ctx, srv.URL(), opts, redis.Options{}); err == nil || !strings.Contains(err.Error(), srv.Addr()) {
		t.Fatalf("Open while Redis is down = %v, want an error naming %s", err, srv.Addr())
	}

	srv.Restart()
	waitUp(t, s)
	if err := s.Accept(ctx, fresh, ds); err != nil {
		t.Fatalf("Accept after restart = %v", err)
	}
	jobs, err := s.Claim(ctx, 10)
	if err != nil || len(jobs) != 1 || jobs[0].Delivery.ID != ds[0].ID {
		t.Fatalf("Claim after restart = %v, %v; want [%s]", jobIDs(jobs), err, ds[0].ID)
	}
	if err := s.Ack(ctx, jobs[0]); err != nil {
		t.Fatalf("Ack after restart = %v", err)
	}
	if st, err := s.Stats(ctx); err != nil || counts(st) != (store.Stats{Calls: 2, Pending: 2, Done: 2, Dead: 1, Rejected: 1}) {
		t.Fatalf("Stats after restart = %+v, %v", st, err)
	}
}

// waitUp waits until s answers Ping again, for a bounded number of tries:
// the client's pool may hold on to its dial errors for a moment.
func waitUp(t *testing.T, s *redis.Store) {
	t.Helper()
	var err error
	for range 200 {
		if err = s.Ping(t.Context()); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("Ping after restart = %v, want nil", err)
}

func TestTwoStoresClaimEachJobOnce(t *testing.T) {
	const stores, workers, calls, perCall = 2, 4, 100, 5
	srv := redistest.Start(t)
	opts, _ := testOptions()
	var all []*redis.Store
	for range stores {
		all = append(all, open(t, srv.URL(), opts, redis.Options{}))
	}
	rules := make([]string, perCall)
	for i := range rules {
		rules[i] = fmt.Sprintf("r%d", i)
	}
	for i := range calls {
		call, ds := testCall(fmt.Sprintf("CA-%03d", i), rules...)
		if err := all[i%stores].Accept(t.Context(), call, ds); err != nil {
			t.Fatalf("Accept = %v", err)
		}
	}

	var (
		mu    sync.Mutex
		acked = map[string]int{}
		wg    sync.WaitGroup
	)
	for _, s := range all {
		for range workers {
			wg.Go(func() {
				// The clock stands still: an empty claim means every job
				// has been handed out.
				for {
					jobs, err := s.Claim(t.Context(), 7)
					if err != nil {
						t.Errorf("Claim = %v", err)
						return
					}
					if len(jobs) == 0 {
						return
					}
					for _, j := range jobs {
						if err := s.Ack(t.Context(), j); err != nil {
							t.Errorf("Ack(%s) = %v", j.Delivery.ID, err)
							continue
						}
						mu.Lock()
						acked[j.Delivery.ID]++
						mu.Unlock()
					}
				}
			})
		}
	}
	wg.Wait()
	if len(acked) != calls*perCall {
		t.Fatalf("acked %d distinct jobs, want %d", len(acked), calls*perCall)
	}
	for id, n := range acked {
		if n != 1 {
			t.Errorf("job %s acked %d times, want once", id, n)
		}
	}
	st, err := all[0].Stats(t.Context())
	if want := (store.Stats{Calls: calls, Done: calls * perCall}); err != nil || st != want {
		t.Fatalf("Stats = %+v, %v; want %+v", st, err, want)
	}
}

func jobIDs(jobs []store.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.Delivery.ID
	}
	return out
}

// wantSameJSON checks that got and want encode to the same JSON.
func wantSameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: encode got: %v", what, err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encode want: %v", what, err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}
