package spool_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/spool"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

func TestDrainMovesAll(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	r := openRedis(t, srv)
	s := openSpool(t, t.TempDir(), r, spool.Options{})
	ctx := t.Context()
	srv.Stop()

	calls := map[*forwarder.Call][]forwarder.Delivery{}
	for i, sid := range []string{"CA-none", "CA:one", "CA.two"} {
		call := newCall(sid)
		calls[call] = plan(call, []string{"a", "b"}[:i]...)
		if err := s.Accept(ctx, call, calls[call]); err != nil {
			t.Fatalf("Accept(%s) while Redis is down = %v", sid, err)
		}
	}
	if moved, err := s.DrainOnce(ctx); err == nil || moved != 0 {
		t.Fatalf("DrainOnce while Redis is down = %d, %v; want 0 and an error", moved, err)
	}
	wantPending(t, s, len(calls))

	srv.Restart()
	waitUp(t, r)
	moved, err := s.DrainOnce(ctx)
	if err != nil || moved != len(calls) {
		t.Fatalf("DrainOnce after restart = %d, %v; want %d, nil", moved, err, len(calls))
	}
	wantPending(t, s, 0)
	for call, ds := range calls {
		wantInRedis(t, r, call, ds)
		if err := s.Accept(ctx, call, ds); !isDuplicate(err) {
			t.Errorf("Accept(%s) after the drain = %v, want ErrDuplicate from Redis", call.Sid, err)
		}
	}
	wantPending(t, s, 0)
	if moved, err := s.DrainOnce(ctx); err != nil || moved != 0 {
		t.Fatalf("DrainOnce of an empty spool = %d, %v; want 0, nil", moved, err)
	}
}

// TestDrainDuplicate re-sends, during the outage, a call Redis took before
// it: the spool cannot know, and the drain must not add a second set of
// jobs.
func TestDrainDuplicate(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	r := openRedis(t, srv)
	s := openSpool(t, t.TempDir(), r, spool.Options{})
	ctx := t.Context()

	call := newCall("CA-before")
	first := plan(call, "a")
	if err := s.Accept(ctx, call, first); err != nil {
		t.Fatalf("Accept before the outage = %v", err)
	}
	srv.Stop()
	if err := s.Accept(ctx, call, plan(call, "b", "c")); err != nil {
		t.Fatalf("Accept during the outage = %v, want nil (spooled)", err)
	}
	wantPending(t, s, 1)

	srv.Restart()
	waitUp(t, r)
	if moved, err := s.DrainOnce(ctx); err != nil || moved != 1 {
		t.Fatalf("DrainOnce = %d, %v; want 1, nil", moved, err)
	}
	wantPending(t, s, 0)
	wantInRedis(t, r, call, first)
}

// TestDrainAfterCrash brings a drained file back, as a crash between
// Redis's Accept and the file's removal would: the next run drops it as
// a duplicate.
func TestDrainAfterCrash(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	r := openRedis(t, srv)
	dir := t.TempDir()
	s := openSpool(t, dir, r, spool.Options{})
	ctx := t.Context()
	srv.Stop()

	call := newCall("CA-crash")
	ds := plan(call, "a", "b")
	if err := s.Accept(ctx, call, ds); err != nil {
		t.Fatalf("Accept during the outage = %v", err)
	}
	path := filepath.Join(dir, "c-CA-crash@Call.Complete.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("spool file: %v", err)
	}
	srv.Restart()
	waitUp(t, r)
	if moved, err := s.DrainOnce(ctx); err != nil || moved != 1 {
		t.Fatalf("DrainOnce = %d, %v; want 1, nil", moved, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	restarted := openSpool(t, dir, r, spool.Options{})
	wantPending(t, restarted, 1)
	if moved, err := restarted.DrainOnce(ctx); err != nil || moved != 1 {
		t.Fatalf("DrainOnce after the crash = %d, %v; want 1, nil", moved, err)
	}
	wantPending(t, restarted, 0)
	wantInRedis(t, r, call, ds)
}

// spoolAll spools a call of each sid into s (whose primary is down),
// each file one second older than the next, so that the oldest is first.
func spoolAll(t *testing.T, s *spool.Store, dir string, sids ...string) {
	t.Helper()
	for i, sid := range sids {
		call := newCall(sid)
		if err := s.Accept(t.Context(), call, plan(call, "r")); err != nil {
			t.Fatalf("Accept(%s) while the primary is down = %v", sid, err)
		}
		at := epoch.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(filepath.Join(dir, "c-"+sid+"@Call.Complete.json"), at, at); err != nil {
			t.Fatal(err)
		}
	}
}

// recorder is a fake primary that takes every call but those in refuse,
// and records the order of the calls it was given.
type recorder struct {
	mu     sync.Mutex
	sids   []string
	refuse map[string]error
	// downAfter, when positive, makes the primary unreachable after that
	// many Accepts.
	downAfter int
}

func (r *recorder) primary() fakePrimary {
	return fakePrimary{
		accept: func(call *forwarder.Call) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.downAfter > 0 && len(r.sids) >= r.downAfter {
				return errDown
			}
			r.sids = append(r.sids, call.Sid)
			return r.refuse[call.Sid]
		},
		ping: func() error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.downAfter > 0 && len(r.sids) >= r.downAfter {
				return errDown
			}
			return nil
		},
	}
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sids)
}

// TestDrainKeepsWhatPrimaryRefuses checks that a call the primary refuses
// and a file that cannot be read stay in the spool, are logged once, and
// do not hold up the calls behind them.
func TestDrainKeepsWhatPrimaryRefuses(t *testing.T) {
	errPermanent := errors.New("refused")
	tests := []struct {
		name          string
		isUnavailable func(error) bool
	}{
		// By default the refusal counts as an outage, until Ping says
		// the primary is up.
		{"default classification", nil},
		{"permanent error", func(err error) bool { return errors.Is(err, errDown) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writer := openSpool(t, dir, down, spool.Options{})
			spoolAll(t, writer, dir, "CA-1", "CA-bad", "CA-3")
			if err := writer.Close(); err != nil {
				t.Fatal(err)
			}
			corrupt := filepath.Join(dir, "c-CA-corrupt.json")
			if err := os.WriteFile(corrupt, []byte("{not json"), 0o600); err != nil {
				t.Fatal(err)
			}

			rec := &recorder{refuse: map[string]error{"CA-bad": errPermanent}}
			var logs bytes.Buffer
			notified := 0
			s := openSpool(t, dir, rec.primary(), spool.Options{
				Logger:        slog.New(slog.NewTextHandler(&logs, nil)),
				IsUnavailable: tc.isUnavailable,
				Notify:        func() { notified++ },
			})
			for round := range 2 {
				moved, err := s.DrainOnce(t.Context())
				if want := 2 - 2*round; err != nil || moved != want {
					t.Fatalf("DrainOnce round %d = %d, %v; want %d, nil", round, moved, err, want)
				}
			}
			wantPending(t, s, 2)
			if want := []string{"CA-1", "CA-bad", "CA-3", "CA-bad"}; !slices.Equal(rec.seen(), want) {
				t.Errorf("primary saw %v, want %v (oldest first, the refused one again)", rec.seen(), want)
			}
			if n := strings.Count(logs.String(), "call kept in the spool"); n != 2 {
				t.Errorf("logged %d kept calls over two rounds, want 2 (one per file):\n%s", n, logs.String())
			}
			if notified != 1 {
				t.Errorf("Notify called %d times, want 1 (the round that moved calls)", notified)
			}
			if _, err := os.Stat(corrupt); err != nil {
				t.Errorf("corrupt file: %v, want it kept", err)
			}
		})
	}
}

func TestDrainStopsWhenPrimaryGoesDown(t *testing.T) {
	dir := t.TempDir()
	writer := openSpool(t, dir, down, spool.Options{})
	spoolAll(t, writer, dir, "CA-1", "CA-2", "CA-3")
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{downAfter: 1}
	s := openSpool(t, dir, rec.primary(), spool.Options{})
	moved, err := s.DrainOnce(t.Context())
	if err == nil || !errors.Is(err, errDown) || moved != 1 {
		t.Fatalf("DrainOnce = %d, %v; want 1 and the outage", moved, err)
	}
	wantPending(t, s, 2)
	if want := []string{"CA-1"}; !slices.Equal(rec.seen(), want) {
		t.Errorf("primary took %v, want %v", rec.seen(), want)
	}
}

func TestDrainOnceCanceled(t *testing.T) {
	dir := t.TempDir()
	writer := openSpool(t, dir, down, spool.Options{})
	spoolAll(t, writer, dir, "CA-1")
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	s := openSpool(t, dir, rec.primary(), spool.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if moved, err := s.DrainOnce(ctx); !errors.Is(err, context.Canceled) || moved != 0 {
		t.Fatalf("DrainOnce(canceled) = %d, %v; want 0, context.Canceled", moved, err)
	}
	wantPending(t, s, 1)
}

// TestDrain runs the drain loop across an outage's end: it moves the
// calls by itself once Redis is back.
func TestDrain(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	r := openRedis(t, srv)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var s *spool.Store
	// Notify, called after a round that moved calls, ends Drain once the
	// spool is empty.
	notify := func() {
		if n, err := s.Pending(); err == nil && n == 0 {
			cancel()
		}
	}
	s = openSpool(t, t.TempDir(), r, spool.Options{Interval: 10 * time.Millisecond, Notify: notify})
	srv.Stop()
	calls := []*forwarder.Call{newCall("CA-1"), newCall("CA-2")}
	for _, call := range calls {
		if err := s.Accept(ctx, call, plan(call, "r")); err != nil {
			t.Fatalf("Accept(%s) while Redis is down = %v", call.Sid, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- s.Drain(ctx) }()
	srv.Restart()
	if err := <-done; err != nil {
		t.Fatalf("Drain = %v, want nil", err)
	}
	wantPending(t, s, 0)
	for _, call := range calls {
		wantInRedis(t, r, call, plan(call, "r"))
	}
}
