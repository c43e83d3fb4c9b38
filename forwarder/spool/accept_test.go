package spool_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/spool"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

func isDuplicate(err error) bool { return errors.Is(err, store.ErrDuplicate) }

func TestAcceptPrimaryUp(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	r := openRedis(t, srv)
	s := openSpool(t, t.TempDir(), r, spool.Options{})
	ctx := t.Context()

	call := newCall("CA-up")
	ds := plan(call, "a", "b")
	if err := s.Accept(ctx, call, ds); err != nil {
		t.Fatalf("Accept = %v, want nil", err)
	}
	wantPending(t, s, 0)
	wantInRedis(t, r, call, ds)
	if err := s.Accept(ctx, call, ds); !isDuplicate(err) {
		t.Fatalf("second Accept = %v, want ErrDuplicate from the primary", err)
	}
	wantPending(t, s, 0)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping = %v, want nil", err)
	}
}

func TestAcceptPrimaryDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	r := openRedis(t, srv)
	s := openSpool(t, t.TempDir(), r, spool.Options{})
	ctx := t.Context()
	srv.Stop()

	calls := []*forwarder.Call{newCall("CA-1"), newCall("CA:2"), newCall("CA.3")}
	for _, call := range calls {
		if err := s.Accept(ctx, call, plan(call, "a")); err != nil {
			t.Fatalf("Accept(%s) while Redis is down = %v, want nil (spooled)", call.Sid, err)
		}
	}
	wantPending(t, s, len(calls))
	for _, call := range calls {
		if err := s.Accept(ctx, call, plan(call, "other")); !isDuplicate(err) {
			t.Errorf("Accept(%s) again = %v, want ErrDuplicate from the spool", call.Sid, err)
		}
	}
	wantPending(t, s, len(calls))
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping while Redis is down = %v, want nil (the spool takes calls)", err)
	}

	bad := newCall("CA/../x")
	err := s.Accept(ctx, bad, nil)
	if err == nil || isDuplicate(err) || !strings.Contains(err.Error(), "spool:") {
		t.Errorf("Accept of an unspoolable Sid = %v, want a spool error", err)
	}
	wantPending(t, s, len(calls))
}

func TestAcceptSpoolUnwritable(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	r := openRedis(t, srv)
	dir := t.TempDir()
	s := openSpool(t, dir, r, spool.Options{})
	ctx := t.Context()
	srv.Stop()
	// Permissions do not stop root: put a file where the directory was.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	call := newCall("CA-lost")
	err := s.Accept(ctx, call, plan(call, "a"))
	var opErr *net.OpError
	if err == nil || !errors.As(err, &opErr) || !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("Accept with Redis down and no spool = %v, want an error wrapping Redis's and the spool's", err)
	}
	err = s.Ping(ctx)
	if err == nil || !errors.As(err, &opErr) || !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("Ping with Redis down and no spool = %v, want an error wrapping Redis's and the spool's", err)
	}
	for _, part := range []string{"primary:", "spool directory:"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("Ping = %v, want it to say %q", err, part)
		}
	}
}

// TestAcceptClassifies checks which primary errors spool a call.
func TestAcceptClassifies(t *testing.T) {
	errPermanent := errors.New("permanent")
	tests := []struct {
		name          string
		primary       error
		isUnavailable func(error) bool
		wantErr       error // nil: accepted
		wantSpooled   bool
	}{
		{"accepted", nil, nil, nil, false},
		{"duplicate", store.ErrDuplicate, nil, store.ErrDuplicate, false},
		{"canceled", context.Canceled, nil, context.Canceled, false},
		{"deadline", context.DeadlineExceeded, nil, context.DeadlineExceeded, false},
		{"unavailable", errDown, nil, nil, true},
		{"custom: not unavailable", errPermanent, func(err error) bool { return !errors.Is(err, errPermanent) }, errPermanent, false},
		{"custom: unavailable", errDown, func(err error) bool { return !errors.Is(err, errPermanent) }, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary := fakePrimary{
				accept: func(*forwarder.Call) error { return tc.primary },
				ping:   func() error { return nil },
			}
			s := openSpool(t, t.TempDir(), primary, spool.Options{IsUnavailable: tc.isUnavailable})
			call := newCall("CA-1")
			err := s.Accept(t.Context(), call, plan(call, "a"))
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Accept = %v, want %v", err, tc.wantErr)
			}
			want := 0
			if tc.wantSpooled {
				want = 1
			}
			wantPending(t, s, want)
		})
	}
}

func TestAcceptNilCall(t *testing.T) {
	s := openSpool(t, t.TempDir(), down, spool.Options{})
	if err := s.Accept(t.Context(), nil, nil); err == nil {
		t.Fatal("Accept(nil) = nil, want an error")
	}
	wantPending(t, s, 0)
}

// TestAcceptInitiateThenCompleteWhileDown: the Call.Initiate and the
// Call.Complete of one call share its Sid; while Redis is down both are
// spooled (the Initiate does not make the Complete a duplicate), copies of
// either are duplicates, and the drain moves both into Redis.
func TestAcceptInitiateThenCompleteWhileDown(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	r := openRedis(t, srv)
	s := openSpool(t, t.TempDir(), r, spool.Options{})
	ctx := t.Context()
	srv.Stop()

	initiate := newCall("CA-initiate")
	initiate.Action, initiate.Event, initiate.Duration, initiate.Disposition = "Call.Initiate", forwarder.EventInitiate, nil, ""
	complete := newCall(initiate.Sid)
	deliveries := plan(complete, "a")
	if err := s.Accept(ctx, initiate, nil); err != nil {
		t.Fatalf("Accept(Initiate) while Redis is down = %v, want nil (spooled)", err)
	}
	if err := s.Accept(ctx, complete, deliveries); err != nil {
		t.Fatalf("Accept(Complete) while Redis is down = %v, want nil (spooled)", err)
	}
	for _, call := range []*forwarder.Call{initiate, complete} {
		if err := s.Accept(ctx, call, nil); !isDuplicate(err) {
			t.Errorf("Accept(%s) again = %v, want ErrDuplicate from the spool", call.Event, err)
		}
	}
	wantPending(t, s, 2)

	srv.Restart()
	waitUp(t, r)
	if moved, err := s.DrainOnce(ctx); err != nil || moved != 2 {
		t.Fatalf("DrainOnce after restart = %d, %v; want 2, nil", moved, err)
	}
	wantInRedis(t, r, complete, deliveries)
}
