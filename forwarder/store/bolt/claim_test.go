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

// TestClaimWritesPreparedOnlyWhenUnchanged: Claim's transaction writes
// the record prepared before it only for a job whose stored record has
// not changed since; it claims a job changed meanwhile as it finds it,
// and leaves a job no longer due alone, prepared or not.
func TestClaimWritesPreparedOnlyWhenUnchanged(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	s, err := Open(filepath.Join(t.TempDir(), "forwarder.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for _, sid := range []string{"CA-same", "CA-changed", "CA-later"} {
		call := &forwarder.Call{Sid: sid, Event: forwarder.EventComplete, StartDate: now.Add(-time.Minute)}
		ds := []forwarder.Delivery{storetest.GA4Delivery(sid, "r", call.StartDate)}
		if err := s.Accept(t.Context(), call, ds); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ds[0].ID)
	}
	same, changed, later := ids[0], ids[1], ids[2]
	leaseEnd := now.Add(time.Minute)
	pre, err := s.prepareClaim(10, now, leaseEnd)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if pre[id] == nil {
			t.Fatalf("%s: not prepared (%d prepared)", id, len(pre))
		}
	}
	// Between the preparation and the transaction: one record changes,
	// another job becomes due later.
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		rec, _, err := getRawRecord(b, changed)
		if err != nil {
			return err
		}
		rec.Job.LastError = "changed meanwhile"
		if err := putLease(b.jobs, changed, rec); err != nil {
			return err
		}
		rec, _, err = getRawRecord(b, later)
		if err != nil {
			return err
		}
		if err := b.due.Delete(timeKey(rec.Job.DueAt, later)); err != nil {
			return err
		}
		rec.Job.DueAt = now.Add(time.Hour)
		if err := putLease(b.jobs, later, rec); err != nil {
			return err
		}
		return b.due.Put(timeKey(rec.Job.DueAt, later), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	laterBefore := rawValue(t, s, later)

	jobs, err := s.claim(10, now, leaseEnd, pre)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.Job{}
	for _, j := range jobs {
		got[j.Delivery.ID] = j
	}
	if len(jobs) != 2 || got[same].Lease == "" || got[changed].Lease == "" {
		t.Fatalf("claimed %v, want %s and %s", jobs, same, changed)
	}
	// The job unchanged: the prepared record, under the prepared lease.
	if j := got[same]; j.Lease != pre[same].job.Lease || !j.DueAt.Equal(leaseEnd) {
		t.Errorf("%s: lease %q due %v, want the prepared lease %q due %v", same, j.Lease, j.DueAt, pre[same].job.Lease, leaseEnd)
	}
	want, err := decodeJob(nil, []byte(same), pre[same].value)
	if err != nil {
		t.Fatal(err)
	}
	if v := rawValue(t, s, same); !bytes.Equal(v, want) {
		t.Errorf("%s: stored\n %s\nwant the prepared\n %s", same, v, want)
	}
	// The job changed: claimed as found, under a lease of its own.
	j := got[changed]
	if j.LastError != "changed meanwhile" || j.Lease == pre[changed].job.Lease {
		t.Errorf("%s: claimed with last error %q, lease %q (prepared %q); want the change kept, a new lease",
			changed, j.LastError, j.Lease, pre[changed].job.Lease)
	}
	var rec rawRecord
	if err := decodeRawRecord(rawValue(t, s, changed), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Job.LastError != "changed meanwhile" || rec.Job.Lease != j.Lease || rec.State != store.JobPending || !rec.Job.DueAt.Equal(leaseEnd) {
		t.Errorf("%s: stored last error %q, lease %q, state %v, due %v; want the change kept under lease %q until %v",
			changed, rec.Job.LastError, rec.Job.Lease, rec.State, rec.Job.DueAt, j.Lease, leaseEnd)
	}
	if j.Delivery.GA4 == nil || j.Delivery.GA4.ClientID != "1234567890.1700000000" {
		t.Errorf("%s: delivery %+v, want it decoded", changed, j.Delivery)
	}
	// The job due later: untouched.
	if v := rawValue(t, s, later); !bytes.Equal(v, laterBefore) {
		t.Errorf("%s: stored\n %s\nwant it unchanged\n %s", later, v, laterBefore)
	}
	// Both claims hold: the jobs settle under the leases handed out.
	for _, err := range s.AckMany(t.Context(), jobs) {
		if err != nil {
			t.Errorf("AckMany = %v", err)
		}
	}
	if _, ok := got[later]; ok {
		t.Errorf("%s claimed, want it left alone", later)
	}
}
