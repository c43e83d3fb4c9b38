package bolt

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// TestCallLivesWithItsJobs: Accept keeps a Sid's dedup marks ahead of its
// call, in the jobs bucket next to its jobs; a call and marks an earlier
// release kept in the calls and dedup buckets still count, move at the
// Sid's next accept, and are swept from where they are.
func TestCallLivesWithItsJobs(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	s, err := Open(filepath.Join(t.TempDir(), "forwarder.db"), store.Options{DedupWindow: 24 * time.Hour, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	accept := func(sid string, event forwarder.Event) error {
		call := &forwarder.Call{Sid: sid, Event: event, StartDate: clock.Now().Add(-time.Minute)}
		return s.Accept(ctx, call, []forwarder.Delivery{storetest.GA4Delivery(sid, "every-"+string(event), call.StartDate)})
	}
	// calls returns the calls values in the jobs bucket, by Sid.
	calls := func() map[string][]byte {
		out := map[string][]byte{}
		if err := s.db.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
				if isCallKey(k) {
					out[string(k[:len(k)-1])] = bytes.Clone(v)
				}
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// asEarlier stores sid's call and marks as an earlier release did:
	// the call alone in the calls bucket, the marks in the dedup bucket.
	asEarlier := func(sid string) {
		t.Helper()
		if err := s.db.Update(func(tx *bbolt.Tx) error {
			b := bucketsOf(tx)
			m, call, err := splitCall(b.jobs.Get(callKey([]byte(sid))))
			if err != nil {
				return err
			}
			m, call = bytes.Clone(m), bytes.Clone(call)
			return errors.Join(b.dedup.Put([]byte(sid), m), b.calls.Put([]byte(sid), call), b.jobs.Delete(callKey([]byte(sid))))
		}); err != nil {
			t.Fatal(err)
		}
	}
	// earlier returns the keys left in the calls and dedup buckets.
	earlier := func() int { return keysIn(t, s, bucketCalls) + keysIn(t, s, bucketDedup) }

	for _, sid := range []string{"CA-new", "CA-earlier", "CA-earlier/slash"} {
		if err := accept(sid, forwarder.EventComplete); err != nil {
			t.Fatal(err)
		}
	}
	if got := calls(); len(got) != 3 {
		t.Fatalf("calls values in the jobs bucket: %d, want 3", len(got))
	}
	for sid, v := range calls() {
		if len(v) == 0 || v[0] != valueMarked {
			t.Fatalf("calls value of %s starts %x, want the marks ahead of the call", sid, v[:min(len(v), 4)])
		}
	}
	if n := earlier(); n != 0 {
		t.Fatalf("%d keys in the calls and dedup buckets, want none", n)
	}
	// A call's key, next to its jobs, is none of its jobs, nor of the
	// jobs of a Sid it extends.
	for _, sid := range []string{"CA-earlier", "CA-earlier/slash"} {
		if infos, err := s.Jobs(ctx, sid); err != nil || len(infos) != 1 {
			t.Fatalf("Jobs(%s) = %+v, %v; want its one job", sid, infos, err)
		}
		if calls, _, err := s.ListCalls(ctx, store.CallFilter{Sid: sid, State: string(store.JobPending)}, "", 0); err != nil || len(calls) == 0 || len(calls[0].Jobs) != 1 {
			t.Fatalf("ListCalls(%s, pending) = %+v, %v; want its call with its one job", sid, calls, err)
		}
	}

	asEarlier("CA-earlier")
	if got, err := s.Call(ctx, "CA-earlier"); err != nil || got.Event != forwarder.EventComplete {
		t.Fatalf("Call of the earlier release's value = %+v, %v", got, err)
	}
	clock.Advance(time.Minute)
	if err := accept("CA-earlier", forwarder.EventComplete); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Accept of a copy under the dedup bucket's mark = %v, want %v", err, store.ErrDuplicate)
	}
	if err := accept("CA-earlier", forwarder.EventInitiate); err != nil {
		t.Fatalf("Accept of another event = %v", err)
	}
	if n := earlier(); n != 0 {
		t.Fatalf("%d keys in the calls and dedup buckets after the Sid's accept, want its call and marks moved", n)
	}
	if v := calls()["CA-earlier"]; len(v) == 0 || v[0] != valueMarked {
		t.Fatalf("calls value of CA-earlier starts %x, want the marks ahead of the call", v[:min(len(v), 4)])
	}
	// Both events are marked, and the Call.Complete is the call kept.
	for _, event := range []forwarder.Event{forwarder.EventComplete, forwarder.EventInitiate} {
		if err := accept("CA-earlier", event); !errors.Is(err, store.ErrDuplicate) {
			t.Errorf("Accept of a copy of the %s = %v, want %v", event, err, store.ErrDuplicate)
		}
	}
	if got, err := s.Call(ctx, "CA-earlier"); err != nil || got.Event != forwarder.EventComplete {
		t.Fatalf("Call = %+v, %v; want the Call.Complete kept", got, err)
	}
	if st, err := s.Stats(ctx); err != nil || st.Calls != 3 {
		t.Fatalf("Stats = %+v, %v; want 3 calls", st, err)
	}

	// An earlier release's call and marks are swept from where they are.
	asEarlier("CA-new")
	clock.Advance(25 * time.Hour)
	sweepAll(t, s)
	if n := len(calls()) + earlier(); n != 0 {
		t.Fatalf("%d calls and marks left after the sweep, want none", n)
	}
	if st, err := s.Stats(ctx); err != nil || st.Calls != 0 {
		t.Fatalf("Stats after the sweep = %+v, %v; want no call", st, err)
	}
}

// TestSplitCall: a calls value's marks and call come apart as they were
// joined, an earlier release's value is the call alone, and a value whose
// length of marks is wrong is an error, not a call.
func TestSplitCall(t *testing.T) {
	m := marks{forwarder.EventComplete: time.Unix(1700000000, 0)}.encode(time.Unix(1700000000, 0))
	call := []byte(`{"sid":"CA1"}`)
	if gotM, gotCall, err := splitCall(joinCall(m, call)); err != nil || !bytes.Equal(gotM, m) || !bytes.Equal(gotCall, call) {
		t.Errorf("splitCall(joinCall) = %x, %q, %v", gotM, gotCall, err)
	}
	if gotM, gotCall, err := splitCall(call); err != nil || gotM != nil || !bytes.Equal(gotCall, call) {
		t.Errorf("splitCall of a call alone = %x, %q, %v", gotM, gotCall, err)
	}
	if gotM, gotCall, err := splitCall(nil); err != nil || gotM != nil || gotCall != nil {
		t.Errorf("splitCall(nil) = %x, %q, %v", gotM, gotCall, err)
	}
	for _, bad := range [][]byte{{valueMarked}, {valueMarked, 200}, {valueMarked, 4, 1, 2, 3, 4}, {valueMarked, 0x80}} {
		if _, _, err := splitCall(bad); !errors.Is(err, errValue) {
			t.Errorf("splitCall(%x) = %v, want %v", bad, err, errValue)
		}
	}
}
