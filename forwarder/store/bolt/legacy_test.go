package bolt_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// legacyStore is a store file written before dedup was keyed by event: at
// epoch it accepted the Call.Complete of CA-legacy-complete (one delivery,
// rule "complete") and the ignored Call.Initiate of CA-legacy-initiate,
// each marked under its Call.Sid alone.
const legacyStore = "testdata/dedup-by-sid.db"

// TestLegacyDedupMarks: a mark written under the Sid alone stands for the
// event of the call stored with it, the event that wrote it.
func TestLegacyDedupMarks(t *testing.T) {
	tests := []struct {
		sid   string
		event forwarder.Event
		// duplicate is whether Accept must refuse the event.
		duplicate bool
		// stored is the event of the call stored afterwards.
		stored forwarder.Event
	}{
		{"CA-legacy-complete", forwarder.EventComplete, true, forwarder.EventComplete},
		{"CA-legacy-complete", forwarder.EventInitiate, false, forwarder.EventComplete},
		{"CA-legacy-initiate", forwarder.EventInitiate, true, forwarder.EventInitiate},
		{"CA-legacy-initiate", forwarder.EventComplete, false, forwarder.EventComplete},
	}
	for _, tc := range tests {
		t.Run(string(tc.event)+" of "+tc.sid, func(t *testing.T) {
			s, clock := openLegacy(t)
			clock.Advance(time.Hour)
			call, ds := testCall(tc.sid, "again")
			call.Event = tc.event
			err := s.Accept(t.Context(), call, ds)
			if tc.duplicate != errors.Is(err, store.ErrDuplicate) || (!tc.duplicate && err != nil) {
				t.Fatalf("Accept = %v, want duplicate %v", err, tc.duplicate)
			}
			got, err := s.Call(t.Context(), tc.sid)
			if err != nil {
				t.Fatalf("Call = %v, want nil", err)
			}
			if got.Event != tc.stored {
				t.Errorf("stored call is a %s, want %s", got.Event, tc.stored)
			}
			// Once the event is marked (now or before), a copy is a
			// duplicate under the new marks too.
			if err := s.Accept(t.Context(), call, ds); !errors.Is(err, store.ErrDuplicate) {
				t.Errorf("Accept of a copy = %v, want %v", err, store.ErrDuplicate)
			}
		})
	}
}

// TestLegacyDedupMarksExpire: legacy marks expire with their window like
// new ones, with or without a sweep, and the Sid can then be accepted
// again.
func TestLegacyDedupMarksExpire(t *testing.T) {
	for _, sweep := range []bool{false, true} {
		t.Run(map[bool]string{false: "by age", true: "by sweep"}[sweep], func(t *testing.T) {
			s, clock := openLegacy(t)
			clock.Advance(24 * time.Hour)
			if sweep {
				if n, err := s.Sweep(t.Context()); err != nil || n < 2 {
					t.Fatalf("Sweep = %d, %v; want the 2 legacy calls at least", n, err)
				}
			}
			call, ds := testCall("CA-legacy-complete", "complete")
			if err := s.Accept(t.Context(), call, ds); err != nil {
				t.Fatalf("Accept after the window = %v, want nil", err)
			}
			if err := s.Accept(t.Context(), call, ds); !errors.Is(err, store.ErrDuplicate) {
				t.Errorf("Accept of a copy = %v, want %v", err, store.ErrDuplicate)
			}
		})
	}
}

// openLegacy opens a copy of legacyStore with a clock at epoch and a dedup
// window of a day.
func openLegacy(t *testing.T) (*bolt.Store, *storetest.Clock) {
	t.Helper()
	data, err := os.ReadFile(legacyStore)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "forwarder.db")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	opts, clock := testOptions()
	return open(t, path, opts), clock
}
