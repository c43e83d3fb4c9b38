package redis_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// legacyTime encodes t as the store did before dedup was keyed by event:
// 16 hex digits of unix nanoseconds with the sign bit flipped.
func legacyTime(t time.Time) string { return fmt.Sprintf("%016x", uint64(t.UnixNano())^(1<<63)) }

// openLegacy opens a store under a prefix of its own after writing, at
// epoch, the keys an Accept of call wrote before dedup was keyed by event:
// the mark under the Sid alone, the call, and the accepted index entry.
func openLegacy(t *testing.T, srv *redistest.Server, calls ...*forwarder.Call) (*redis.Store, *storetest.Clock) {
	t.Helper()
	prefix := uniquePrefix()
	c := client(t, srv)
	at := legacyTime(epoch)
	for _, call := range calls {
		callJSON, err := json.Marshal(call)
		if err != nil {
			t.Fatal(err)
		}
		p := "{" + prefix + "}:"
		err = c.HSet(t.Context(), p+"dedup", call.Sid, at).Err()
		err = errors.Join(err, c.HSet(t.Context(), p+"calls", call.Sid, callJSON).Err())
		err = errors.Join(err, c.ZAdd(t.Context(), p+"accepted", goredis.Z{Member: at + call.Sid}).Err())
		if err != nil {
			t.Fatalf("write legacy keys: %v", err)
		}
	}
	opts, clock := testOptions()
	return open(t, srv.URL(), opts, redis.Options{Prefix: prefix}), clock
}

// TestLegacyDedupMarks: a mark written under the Sid alone stands for the
// event of the call stored with it, the event that wrote it; for every
// event when that call cannot be read.
func TestLegacyDedupMarks(t *testing.T) {
	srv := redistest.Start(t)
	tests := []struct {
		// stored is the event of the legacy call ("": none told).
		stored, event forwarder.Event
		duplicate     bool
		// after is the event of the call stored afterwards.
		after forwarder.Event
	}{
		{forwarder.EventComplete, forwarder.EventComplete, true, forwarder.EventComplete},
		{forwarder.EventComplete, forwarder.EventInitiate, false, forwarder.EventComplete},
		{forwarder.EventInitiate, forwarder.EventInitiate, true, forwarder.EventInitiate},
		{forwarder.EventInitiate, forwarder.EventComplete, false, forwarder.EventComplete},
		{"", forwarder.EventComplete, true, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s after %s", tc.event, tc.stored), func(t *testing.T) {
			old, _ := testCall("CA-legacy")
			old.Event = tc.stored
			s, clock := openLegacy(t, srv, old)
			clock.Advance(time.Hour)
			call, ds := testCall(old.Sid, "again")
			call.Event = tc.event
			err := s.Accept(t.Context(), call, ds)
			if tc.duplicate != errors.Is(err, store.ErrDuplicate) || (!tc.duplicate && err != nil) {
				t.Fatalf("Accept = %v, want duplicate %v", err, tc.duplicate)
			}
			got, err := s.Call(t.Context(), old.Sid)
			if err != nil {
				t.Fatalf("Call = %v, want nil", err)
			}
			if got.Event != tc.after {
				t.Errorf("stored call is a %q, want %q", got.Event, tc.after)
			}
			if err := s.Accept(t.Context(), call, ds); !errors.Is(err, store.ErrDuplicate) {
				t.Errorf("Accept of a copy = %v, want %v", err, store.ErrDuplicate)
			}
		})
	}
}

// TestLegacyDedupMarksExpire: legacy marks expire with their window like
// new ones, with or without a sweep.
func TestLegacyDedupMarksExpire(t *testing.T) {
	srv := redistest.Start(t)
	for _, sweep := range []bool{false, true} {
		t.Run(map[bool]string{false: "by age", true: "by sweep"}[sweep], func(t *testing.T) {
			call, ds := testCall("CA-legacy", "complete")
			s, clock := openLegacy(t, srv, call)
			clock.Advance(24 * time.Hour)
			if sweep {
				if n, err := s.Sweep(t.Context()); err != nil || n != 1 {
					t.Fatalf("Sweep = %d, %v; want 1, nil", n, err)
				}
			}
			if err := s.Accept(t.Context(), call, ds); err != nil {
				t.Fatalf("Accept after the window = %v, want nil", err)
			}
			if err := s.Accept(t.Context(), call, ds); !errors.Is(err, store.ErrDuplicate) {
				t.Errorf("Accept of a copy = %v, want %v", err, store.ErrDuplicate)
			}
		})
	}
}
