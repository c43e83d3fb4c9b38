package bolt

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// rawValue returns the JSON of job id's record as every read sees it
// (decodeJob: a compact done record restored).
func rawValue(t *testing.T, s *Store, id string) []byte {
	t.Helper()
	return readValue(t, s, id, decodeJob)
}

// storedValue returns the JSON of job id's record as stored
// (decodeValue: a compact done record left compact).
func storedValue(t *testing.T, s *Store, id string) []byte {
	t.Helper()
	return readValue(t, s, id, func(done *bbolt.Bucket, id, v []byte) ([]byte, error) {
		if key, ok := markedKey(id, v); ok {
			v = done.Get(key)
		}
		return decodeValue(v)
	})
}

// readValue returns the JSON of job id's record, read by decode from
// the jobs bucket's value (decode is given the done index too).
func readValue(t *testing.T, s *Store, id string, decode func(done *bbolt.Bucket, id, stored []byte) ([]byte, error)) []byte {
	t.Helper()
	var v []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		v, err = decode(tx.Bucket(bucketDone), []byte(id), tx.Bucket(bucketJobs).Get([]byte(id)))
		v = bytes.Clone(v)
		return err
	})
	if err != nil || v == nil {
		t.Fatalf("read job %s: %v, %d bytes", id, err, len(v))
	}
	return v
}

// deliverySize returns the size of the job record v and of its delivery.
func deliverySize(t *testing.T, v []byte) (record, delivery int) {
	t.Helper()
	var raw rawRecord
	if err := decodeRawRecord(v, &raw); err != nil {
		t.Fatal(err)
	}
	return len(v), len(raw.Job.Delivery)
}

// TestDoneRecordShrinks: a done job's record keeps what is still read of
// its delivery, not its payload; one acknowledged under a poll shrinks
// when the poll is resolved.
func TestDoneRecordShrinks(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	s, err := Open(filepath.Join(t.TempDir(), "forwarder.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	call := &forwarder.Call{Sid: "CA-size", Event: forwarder.EventComplete, StartDate: now.Add(-time.Minute)}
	ds := []forwarder.Delivery{storetest.GA4Delivery(call.Sid, "acked", call.StartDate), storetest.GA4Delivery(call.Sid, "polled", call.StartDate)}
	if err := s.Accept(t.Context(), call, ds); err != nil {
		t.Fatal(err)
	}
	pending, pendingDelivery := deliverySize(t, rawValue(t, s, ds[0].ID))
	jobs, err := s.Claim(t.Context(), 2)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("Claim = %d jobs, %v", len(jobs), err)
	}
	for i := range jobs {
		jobs[i].History = []store.Attempt{{At: now, Took: time.Second, Result: store.AttemptDelivered}}
	}
	polled := ds[1].ID
	p := store.Poll{RequestID: "req-1", Items: []store.PollItem{{DeliveryID: polled}}, DueAt: now}
	for _, err := range s.AckPolled(t.Context(), jobs, p) {
		if err != nil {
			t.Fatal(err)
		}
	}
	done := rawValue(t, s, ds[0].ID)
	_, doneDelivery := deliverySize(t, done)
	stored := storedValue(t, s, ds[0].ID)
	_, storedDelivery := deliverySize(t, stored)
	t.Logf("job record: pending %d bytes (delivery %d), done %d bytes (delivery %d, history of one attempt), stored %d (delivery %d): %s",
		pending, pendingDelivery, len(done), doneDelivery, len(stored), storedDelivery, stored)
	if !bytes.HasPrefix(stored, compactHead) || storedDelivery >= doneDelivery || bytes.Contains(stored, []byte(ds[0].ID)) {
		t.Fatalf("done record stored as %s, want it without what its key %s gives back", stored, ds[0].ID)
	}
	if doneDelivery >= pendingDelivery/2 || len(done) >= pending || bytes.Contains(done, []byte("G-TEST000001")) || bytes.Contains(done, []byte("1234567890.1700000000")) {
		t.Fatalf("done record is %d bytes, delivery %d (pending %d, %d), want the delivery less than half, without payload: %s",
			len(done), doneDelivery, pending, pendingDelivery, done)
	}
	if v := rawValue(t, s, polled); !bytes.Contains(v, []byte("G-TEST000001")) {
		t.Fatalf("job acknowledged under a pending poll lost its payload: %s", v)
	}
	ps, err := s.ClaimPolls(t.Context(), 1)
	if err != nil || len(ps) != 1 {
		t.Fatalf("ClaimPolls = %d, %v", len(ps), err)
	}
	if err := s.ResolvePoll(t.Context(), ps[0], []forwarder.Verdict{{Outcome: forwarder.OutcomeCounted}}); err != nil {
		t.Fatal(err)
	}
	if v := rawValue(t, s, polled); len(v) >= pending || bytes.Contains(v, []byte("G-TEST000001")) {
		t.Fatalf("job of a resolved poll is %d bytes (pending %d), want no payload: %s", len(v), pending, v)
	}
	if v := storedValue(t, s, polled); !bytes.HasPrefix(v, compactHead) {
		t.Fatalf("job of a resolved poll stored as %s, want it without what its key gives back", v)
	}
	// The record still reads as the raw path and encoding/json read it.
	var raw rawRecord
	if err := decodeRawRecord(done, &raw); err != nil || raw.State != store.JobDone {
		t.Fatalf("decode done record = %+v, %v", raw, err)
	}
	if got, err := encodeRawRecord(raw); err != nil || !bytes.Equal(got, done) {
		t.Fatalf("done record re-encoded = %s, %v; want %s", got, err, done)
	}
}
