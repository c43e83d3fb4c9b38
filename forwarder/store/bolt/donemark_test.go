package bolt

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// checkDoneMarks checks that the done marks of s and the done records of
// its done index go together: each mark's record is where the mark says,
// and each record in the done index is its job's, which is a mark
// pointing to it. It returns the number of marks.
func checkDoneMarks(t *testing.T, s *Store) int {
	t.Helper()
	marks := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		err := b.jobs.ForEach(func(id, v []byte) error {
			key, ok := markedKey(id, v)
			if !ok {
				return nil
			}
			marks++
			if b.done.Get(key) == nil {
				t.Errorf("job %s: done mark %x, no done record under it", id, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return b.done.ForEach(func(k, v []byte) error {
			if v == nil {
				return nil // an earlier release's done key
			}
			if key, ok := markedKey(k[timeLen:], b.jobs.Get(k[timeLen:])); !ok || !bytes.Equal(key, k) {
				t.Errorf("done record %x of job %s: the job's value points elsewhere", k[:timeLen], k[timeLen:])
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return marks
}

// doneRecordOf returns the done index's value for job id done at settled
// (nil when there is none).
func doneRecordOf(t *testing.T, s *Store, id string, settled time.Time) []byte {
	t.Helper()
	var v []byte
	if err := s.db.View(func(tx *bbolt.Tx) error {
		v = bytes.Clone(tx.Bucket(bucketDone).Get(timeKey(settled, id)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDoneMarks: a done job leaves a mark of a few bytes in the jobs
// bucket and its record in the done index; a rejection by Google, a new
// call after the dedup window and the sweep take the record out of the
// done index with the mark.
func TestDoneMarks(t *testing.T) {
	s, clock, jobs, _ := ackedStore(t)
	if n := checkDoneMarks(t, s); n != len(jobs) {
		t.Fatalf("%d done marks, want one per job acknowledged (%d)", n, len(jobs))
	}
	settled := clock.Now()
	for _, j := range jobs {
		if v := doneRecordOf(t, s, j.Delivery.ID, settled); len(v) == 0 {
			t.Errorf("job %s: no done record in the done index", j.Delivery.ID)
		}
	}

	// A job Google rejects after its acknowledgement becomes a dead
	// letter, back in the jobs bucket.
	sid := "CA-rejected"
	d := storetest.GA4Delivery(sid, "every-call", clock.Now())
	if err := s.Accept(t.Context(), &forwarder.Call{Sid: sid, Event: forwarder.EventComplete, StartDate: clock.Now()}, []forwarder.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.Claim(t.Context(), 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("Claim = %d jobs, %v", len(claimed), err)
	}
	clock.Advance(time.Second)
	ackedAt := clock.Now()
	p := store.Poll{RequestID: "req-rejected", Items: []store.PollItem{{DeliveryID: d.ID}}, DueAt: ackedAt}
	if err := s.AckPolled(t.Context(), claimed, p)[0]; err != nil {
		t.Fatal(err)
	}
	if v := doneRecordOf(t, s, d.ID, ackedAt); len(v) == 0 {
		t.Fatalf("job %s acknowledged under a poll: no done record", d.ID)
	}
	ps, err := s.ClaimPolls(t.Context(), 1)
	if err != nil || len(ps) != 1 {
		t.Fatalf("ClaimPolls = %d, %v", len(ps), err)
	}
	clock.Advance(time.Second)
	if err := s.ResolvePoll(t.Context(), ps[0], []forwarder.Verdict{{Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"}}); err != nil {
		t.Fatal(err)
	}
	if v := doneRecordOf(t, s, d.ID, ackedAt); v != nil {
		t.Fatalf("job %s rejected: its done record is still in the done index", d.ID)
	}
	if infos, err := s.Jobs(t.Context(), sid); err != nil || len(infos) != 1 || infos[0].State != store.JobDead {
		t.Fatalf("Jobs(%s) = %+v, %v; want one dead letter", sid, infos, err)
	}
	if n := checkDoneMarks(t, s); n != len(jobs) {
		t.Fatalf("%d done marks after the rejection, want %d", n, len(jobs))
	}

	// A new event of a call past the dedup window plans its jobs afresh:
	// pending, their done records gone.
	clock.Advance(25 * time.Hour)
	again := jobs[0].Delivery
	call := &forwarder.Call{Sid: again.CallSid, Event: forwarder.EventComplete, StartDate: clock.Now()}
	again.CallTime = clock.Now()
	if err := s.Accept(t.Context(), call, []forwarder.Delivery{again}); err != nil {
		t.Fatal(err)
	}
	if v := doneRecordOf(t, s, again.ID, settled); v != nil {
		t.Fatalf("job %s planned again: its done record is still in the done index", again.ID)
	}
	if n := checkDoneMarks(t, s); n != len(jobs)-1 {
		t.Fatalf("%d done marks after a job was planned again, want %d", n, len(jobs)-1)
	}
	sids := []string{sid}
	for _, j := range jobs {
		if !slices.Contains(sids, j.Delivery.CallSid) {
			sids = append(sids, j.Delivery.CallSid)
		}
	}
	storetest.CheckTallies(t, s, clock.Now(), sids)

	// The sweep takes the rest, marks and records.
	sweepAll(t, s)
	if n := checkDoneMarks(t, s); n != 0 {
		t.Fatalf("%d done marks after the sweep, want none", n)
	}
	if n := keysIn(t, s, bucketDone); n != 0 {
		t.Fatalf("%d keys in the done index after the sweep, want none", n)
	}
}

// sweepAll runs Sweep until it removes nothing more.
func sweepAll(t *testing.T, s *Store) {
	t.Helper()
	for {
		n, err := s.Sweep(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// keysIn returns the number of keys in bucket.
func keysIn(t *testing.T, s *Store, bucket []byte) int {
	t.Helper()
	n := 0
	if err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucket).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDoneMarkUnreadable: a done mark whose record is missing from the
// done index, or read without the done index, is an error naming it, not
// a job that was never there.
func TestDoneMarkUnreadable(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "forwarder.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id := []byte("CA1/r/web")
	mark := doneMark(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	if len(mark) != doneMarkLen {
		t.Fatalf("done mark of %d bytes, want %d", len(mark), doneMarkLen)
	}
	err = s.db.View(func(tx *bbolt.Tx) error {
		if v, err := decodeJob(tx.Bucket(bucketDone), id, mark); err == nil || v != nil {
			t.Errorf("decodeJob of a mark without its record = %q, %v; want an error", v, err)
		}
		if v, err := decodeJob(nil, id, mark); err == nil || v != nil {
			t.Errorf("decodeJob of a mark without the done index = %q, %v; want an error", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
