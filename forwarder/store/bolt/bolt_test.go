package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		return open(t, filepath.Join(t.TempDir(), "forwarder.db"), opts)
	})
}

// open opens path and closes it when t ends.
func open(t testing.TB, path string, opts store.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v, want nil", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	})
	return s
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

// snapshot is everything a store shows, for comparing a store before and
// after a reopen.
type snapshot struct {
	Stats    store.Stats
	Call     *forwarder.Call
	Jobs     []store.JobInfo
	Dead     []store.DeadLetter
	Rejected []store.Rejected
}

func takeSnapshot(t *testing.T, s *bolt.Store, sid string) snapshot {
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
	return snap
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "forwarder.db")
	opts, _ := testOptions()
	ctx := t.Context()

	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	call, ds := testCall("CA-reopen", "acked", "buried", "retried", "waiting")
	if err := s.Accept(ctx, call, ds); err != nil {
		t.Fatalf("Accept = %v", err)
	}
	jobs, err := s.Claim(ctx, 3)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("Claim(3) = %d jobs, %v; want 3, nil", len(jobs), err)
	}
	settle := []error{
		s.Ack(ctx, jobs[0]),
		s.Bury(ctx, jobs[1], "invalid", "400"),
		s.Retry(ctx, jobs[2], epoch.Add(time.Hour), "timeout"),
		s.Reject(ctx, store.Rejected{Status: 401, Reason: "bad token", Method: "GET", Query: "Call.Sid=CA1"}),
	}
	if err := errors.Join(settle...); err != nil {
		t.Fatalf("settling = %v", err)
	}
	before := takeSnapshot(t, s, call.Sid)
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	s = open(t, path, opts)
	after := takeSnapshot(t, s, call.Sid)
	wantSameJSON(t, "store after reopen", after, before)
	if err := s.Accept(ctx, call, ds); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Accept after reopen = %v, want ErrDuplicate", err)
	}
}

func TestOpenReleasesLeases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "forwarder.db")
	opts, clock := testOptions()
	ctx := t.Context()

	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	call, ds := testCall("CA-crash", "a", "b", "c")
	if err := s.Accept(ctx, call, ds); err != nil {
		t.Fatalf("Accept = %v", err)
	}
	claimed, err := s.Claim(ctx, 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("Claim(2) = %d jobs, %v; want 2, nil", len(claimed), err)
	}
	retried, err := s.Claim(ctx, 1)
	if err != nil || len(retried) != 1 {
		t.Fatalf("Claim(1) = %d jobs, %v; want 1, nil", len(retried), err)
	}
	later := epoch.Add(time.Hour)
	if err := s.Retry(ctx, retried[0], later, "timeout"); err != nil {
		t.Fatalf("Retry = %v", err)
	}
	// The process dies with two claims open: Close stands in for the crash,
	// since the leases are in the file either way.
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	clock.Advance(time.Second)
	s = open(t, path, opts)
	again, err := s.Claim(ctx, 10)
	if err != nil {
		t.Fatalf("Claim after reopen = %v", err)
	}
	if got, want := ids(again), ids(claimed); !slices.Equal(got, want) {
		t.Fatalf("Claim after reopen = %v, want the released %v (the retried job is not due)", got, want)
	}
	for i, j := range again {
		if j.Lease == "" || j.Lease == claimed[i].Lease || j.Attempts != 0 {
			t.Errorf("released job %s: lease %q (was %q), attempts %d; want a new lease and 0 attempts",
				j.Delivery.ID, j.Lease, claimed[i].Lease, j.Attempts)
		}
	}
	if err := s.Ack(ctx, claimed[0]); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack with a lease from before the reopen = %v, want ErrLeaseLost", err)
	}
	infos, err := s.Jobs(ctx, call.Sid)
	if err != nil {
		t.Fatalf("Jobs = %v", err)
	}
	for _, info := range infos {
		if info.Job.Delivery.ID == retried[0].Delivery.ID && !info.Job.DueAt.Equal(later) {
			t.Errorf("retried job DueAt after reopen = %v, want %v", info.Job.DueAt, later)
		}
	}
}

func TestOpenTwiceFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "forwarder.db")
	opts, _ := testOptions()
	open(t, path, opts)

	s, err := bolt.Open(path, opts)
	if err == nil {
		_ = s.Close()
		t.Fatal("second Open = nil, want an error")
	}
	if !errors.Is(err, bolt.ErrInUse) {
		t.Errorf("second Open = %v, want ErrInUse", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "data dir in use by another process") || !strings.Contains(msg, path) {
		t.Errorf("second Open error %q, want it to name %s and say it is in use", msg, path)
	}
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "nested", "forwarder.db")
	opts, _ := testOptions()
	open(t, path, opts)
	tests := []struct {
		path string
		want os.FileMode
	}{
		{filepath.Dir(path), 0o700 | os.ModeDir},
		{path, 0o600},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Fatalf("Stat = %v", err)
			}
			if got := fi.Mode() &^ 0o022; got != tc.want&^0o022 {
				t.Errorf("mode = %v, want %v", fi.Mode(), tc.want)
			}
		})
	}
}

func TestOpenBadPath(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, _ := testOptions()
	tests := []struct {
		name string
		path string
	}{
		{"parent is a file", filepath.Join(file, "forwarder.db")},
		{"not a bolt file", file},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := bolt.Open(tc.path, opts)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%s) = nil, want an error", tc.path)
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("Open error %q, want it to name %s", err, tc.path)
			}
		})
	}
}

func TestClosedStore(t *testing.T) {
	opts, _ := testOptions()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "forwarder.db"), opts)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	ctx := t.Context()
	call, ds := testCall("CA-closed", "a")
	tests := []struct {
		name string
		op   func() error
	}{
		{"Accept", func() error { return s.Accept(ctx, call, ds) }},
		{"Reject", func() error { return s.Reject(ctx, store.Rejected{Status: 400}) }},
		{"Claim", func() error { _, err := s.Claim(ctx, 1); return err }},
		{"Ping", func() error { return s.Ping(ctx) }},
		{"Stats", func() error { _, err := s.Stats(ctx); return err }},
		{"Sweep", func() error { _, err := s.Sweep(ctx); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); err == nil {
				t.Errorf("%s on a closed store = nil, want an error", tc.name)
			}
		})
	}
}

func ids(jobs []store.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.Delivery.ID
	}
	return out
}

// BenchmarkAccept accepts one call at a time: every call pays a whole
// commit (fsync) plus the batch delay.
func BenchmarkAccept(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "forwarder.db"), store.Options{})
	ctx := context.Background()
	i := 0
	for b.Loop() {
		call, ds := testCall(fmt.Sprintf("CA-%d", i), "every-call", "qualified")
		i++
		if err := s.Accept(ctx, call, ds); err != nil {
			b.Fatalf("Accept = %v", err)
		}
	}
}

// BenchmarkAcceptParallel accepts from many goroutines at once, as
// concurrent webhook requests do: Batch commits them together, so the
// cost per call falls well below one fsync.
func BenchmarkAcceptParallel(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "forwarder.db"), store.Options{})
	ctx := context.Background()
	var n atomic.Int64
	// Accept waits on the disk, not the CPU: run many per CPU.
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			call, ds := testCall(fmt.Sprintf("CA-%d", n.Add(1)), "every-call", "qualified")
			if err := s.Accept(ctx, call, ds); err != nil {
				b.Errorf("Accept = %v", err)
				return
			}
		}
	})
}

func TestCallSidsOutsideTimeRange(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	call := &forwarder.Call{Sid: "CA1", Event: forwarder.EventComplete}
	if err := st.Accept(t.Context(), call, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		since time.Time
		want  int
	}{
		{time.Time{}, 1},
		{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 0},
	} {
		got, err := st.CallSids(t.Context(), tt.since, 0)
		if err != nil || len(got) != tt.want {
			t.Errorf("CallSids(since %v) = %v, %v; want %d sids", tt.since, got, err, tt.want)
		}
	}
}

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, false, func(t *testing.T, opts store.Options) func() (store.Store, error) {
		path := filepath.Join(t.TempDir(), "forwarder.db")
		return func() (store.Store, error) { return bolt.Open(path, opts) }
	})
}

// TestOpenAfterLeasesEnded: claims whose leases ended before the store is
// opened again are not rewritten by Open (it reads only the claims still
// under lease), yet they are claimed again at once with a new lease, and
// the old lease settles nothing.
func TestOpenAfterLeasesEnded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "forwarder.db")
	opts, clock := testOptions()
	ctx := t.Context()
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	call, ds := testCall("CA-ended", "a", "b")
	if err := s.Accept(ctx, call, ds); err != nil {
		t.Fatalf("Accept = %v", err)
	}
	claimed, err := s.Claim(ctx, 2)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("Claim(2) = %d jobs, %v; want 2, nil", len(claimed), err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	clock.Advance(opts.Lease + time.Second)
	s = open(t, path, opts)
	again, err := s.Claim(ctx, 10)
	if err != nil {
		t.Fatalf("Claim after reopen = %v", err)
	}
	if got, want := ids(again), ids(claimed); !slices.Equal(got, want) {
		t.Fatalf("Claim after reopen = %v, want %v", got, want)
	}
	for i, j := range again {
		if j.Lease == "" || j.Lease == claimed[i].Lease {
			t.Errorf("job %s claimed again under lease %q (was %q), want a new lease", j.Delivery.ID, j.Lease, claimed[i].Lease)
		}
	}
	if err := s.Ack(ctx, claimed[0]); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack with the ended lease = %v, want ErrLeaseLost", err)
	}
	if err := s.Ack(ctx, again[0]); err != nil {
		t.Errorf("Ack with the new lease = %v", err)
	}
}
