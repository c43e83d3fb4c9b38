package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// The tallies (store.Tallies) live in two buckets, each value a count as
// 8 big-endian bytes (a key whose count falls to zero is deleted), and a
// third holds the other counts of Stats, so that Stats reads no index
// whole:
//
//	tallies      key (store.TallyKeys) → count
//	tally-hours  UTC hour (encoded time) → calls last accepted in it
//	counts       "calls", "rejected" → the calls and rejected requests held
//
// Every write of a job record goes through putJob or deleteJob, and every
// write of the accepted index through putAccepted or deleteAccepted,
// which change the counts in the same transaction; Claim and Extend
// rewrite only a job's lease, which counts for nothing. The meta key
// "tallies" marks a store whose tallies are kept: Open recounts a store
// without it (one written by an earlier release) in its transaction.
var (
	bucketTallies    = []byte("tallies")
	bucketTallyHours = []byte("tally-hours")
	bucketCounts     = []byte("counts")
	keyTallied       = []byte("tallies")
	keyCalls         = []byte("calls")
	keyRejected      = []byte("rejected")
)

// putCounted writes k → v in bucket, counting a new key under count in
// the counts bucket.
func putCounted(b buckets, bucket *bbolt.Bucket, count, k, v []byte) error {
	if bucket.Get(k) == nil {
		if err := addCount(b.counts, count, 1); err != nil {
			return err
		}
	}
	return bucket.Put(k, v)
}

// deleteCounted deletes k from bucket, uncounting it under count.
func deleteCounted(b buckets, bucket *bbolt.Bucket, count, k []byte) error {
	if got, _ := bucket.Cursor().Seek(k); !bytes.Equal(got, k) {
		return nil
	}
	if err := addCount(b.counts, count, -1); err != nil {
		return err
	}
	return bucket.Delete(k)
}

// tallyRecord is the part of a job record the tallies read.
type tallyRecord struct {
	Job struct {
		Delivery tallyDelivery      `json:"delivery"`
		Verdict  *forwarder.Verdict `json:"verdict"`
	} `json:"job"`
	State  store.JobState `json:"state"`
	Reason string         `json:"reason"`
	Code   string         `json:"code"`
	Kind   string         `json:"kind"`
}

// tallyDelivery is the part of a delivery the tallies read.
type tallyDelivery struct {
	Destination string    `json:"destination"`
	Ads         *tallyAds `json:"ads"`
}

// tallyAds is the part of a Google Ads conversion the tallies read.
type tallyAds struct {
	Backend string `json:"backend"`
}

// splitRecord splits the encoded job record v into its delivery's bytes
// and the rest of the record with a null delivery, as decodeRawRecord
// does; ok is false when v is not laid out so.
func splitRecord(v []byte) (delivery, rest []byte, ok bool) {
	if !bytes.HasPrefix(v, rawPrefix) {
		return nil, nil, false
	}
	end, ok := objectEnd(v, len(rawPrefix))
	if !ok {
		return nil, nil, false
	}
	rest = make([]byte, 0, len(rawPrefix)+len(jsonNull)+len(v)-end)
	rest = append(append(append(rest, rawPrefix...), jsonNull...), v[end:]...)
	return v[len(rawPrefix):end], rest, true
}

// decodeTally reads what the tallies count of the encoded job record v.
// The delivery, the bulk of a record, is decoded only when it is not
// same, the delivery of a record decoded before (a settlement rewrites
// a job's envelope and keeps its delivery's destination and backend).
func decodeTally(v []byte, same *tallyRecord, sameDelivery []byte) (r tallyRecord, delivery []byte, err error) {
	d, rest, ok := splitRecord(v)
	if !ok {
		if err := json.Unmarshal(v, &r); err != nil {
			return r, nil, fmt.Errorf("tallies: decode job: %w", err)
		}
		return r, nil, nil
	}
	if err := json.Unmarshal(rest, &r); err != nil {
		return r, nil, fmt.Errorf("tallies: decode job: %w", err)
	}
	if same != nil && bytes.Equal(d, sameDelivery) {
		r.Job.Delivery = same.Job.Delivery
		return r, d, nil
	}
	if err := json.Unmarshal(d, &r.Job.Delivery); err != nil {
		return r, nil, fmt.Errorf("tallies: decode job: delivery: %w", err)
	}
	return r, d, nil
}

// keys returns the keys r counts under.
func (r tallyRecord) keys() []string {
	info := store.JobInfo{State: r.State, Kind: r.Kind}
	info.Job.Verdict = r.Job.Verdict
	info.Job.Delivery.Destination = r.Job.Delivery.Destination
	if a := r.Job.Delivery.Ads; a != nil {
		info.Job.Delivery.Ads = &forwarder.AdsConversion{Backend: a.Backend}
	}
	return store.TallyKeys(info, r.Reason, r.Code)
}

// tallyKeys returns the keys the encoded job record v counts under (none
// for nil).
func tallyKeys(v []byte) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	r, _, err := decodeTally(v, nil, nil)
	if err != nil {
		return nil, err
	}
	return r.keys(), nil
}

// putJob writes the job record v, of a job in state settled at settled,
// under id and moves the job's counts from what the record it replaces
// counted for to what v counts for.
func putJob(b buckets, id []byte, state store.JobState, settled time.Time, v []byte) error {
	old, err := decodeJob(b.done, id, b.jobs.Get(id))
	if err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	if err := retally(b, old, v); err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	return putJobValue(b, id, state, settled, encodeJob(id, state, v))
}

// putNewJob writes the pending job j, which counts under j.tally, and
// moves the counts of the record it replaces, if any.
func putNewJob(b buckets, j newJob) error {
	old, err := decodeJob(b.done, j.id, b.jobs.Get(j.id))
	if err != nil {
		return fmt.Errorf("job %s: %w", j.id, err)
	}
	before, err := tallyKeys(old)
	if err != nil {
		return fmt.Errorf("job %s: %w", j.id, err)
	}
	if err := moveCounts(b, before, j.tally); err != nil {
		return fmt.Errorf("job %s: %w", j.id, err)
	}
	return putJobValue(b, j.id, store.JobPending, time.Time{}, j.value)
}

// pendingKeys returns the keys a pending job of d counts under, from
// the delivery in hand, without encoding or decoding it.
func pendingKeys(d forwarder.Delivery) []string {
	r := tallyRecord{State: store.JobPending}
	r.Job.Delivery = deliveryTally(d)
	return r.keys()
}

// deliveryTally is what the tallies read of d.
func deliveryTally(d forwarder.Delivery) tallyDelivery {
	t := tallyDelivery{Destination: d.Destination}
	if d.Ads != nil {
		t.Ads = &tallyAds{Backend: d.Ads.Backend}
	}
	return t
}

// tallyKeys returns the keys r counts under, its delivery's destination
// and backend being d's.
func (r rawRecord) tallyKeys(d tallyDelivery) []string {
	t := tallyRecord{State: r.State, Reason: r.Reason, Code: r.Code, Kind: r.Kind}
	t.Job.Delivery = d
	t.Job.Verdict = r.Job.Verdict
	return t.keys()
}

// putSettled writes rec under id and moves its counts from before to
// after, the keys its caller computed for the record it read and for
// rec: a settlement, which has the job's delivery in hand, decodes
// nothing to count.
func putSettled(b buckets, id string, rec rawRecord, before, after []string) error {
	v, err := encodeRawRecord(rec)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", id, err)
	}
	return putSettledValue(b, id, &rec, encodeJob([]byte(id), rec.State, v), before, after)
}

// putSettledValue is putSettled with the record's stored value (see
// encodeJob) in hand.
func putSettledValue(b buckets, id string, rec *rawRecord, stored []byte, before, after []string) error {
	if err := moveCounts(b, before, after); err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	return putJobValue(b, []byte(id), rec.State, rec.Settled, stored)
}

// deleteJob deletes the job record id (and its done record, when it is
// a done mark) and its counts.
func deleteJob(b buckets, id []byte) error {
	stored := b.jobs.Get(id)
	old, err := decodeJob(b.done, id, stored)
	if err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	if err := retally(b, old, nil); err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	if key, ok := markedKey(id, stored); ok {
		if err := b.done.Delete(key); err != nil {
			return fmt.Errorf("delete done record %s: %w", id, err)
		}
	}
	if err := b.jobs.Delete(id); err != nil {
		return fmt.Errorf("delete job %s: %w", id, err)
	}
	return nil
}

// retally takes the counts of the record old off and adds those of the
// record new (either may be nil).
func retally(b buckets, old, new []byte) error {
	var before, after []string
	var first *tallyRecord
	var firstDelivery []byte
	if old != nil {
		r, d, err := decodeTally(old, nil, nil)
		if err != nil {
			return err
		}
		before, first, firstDelivery = r.keys(), &r, d
	}
	if new != nil {
		r, _, err := decodeTally(new, first, firstDelivery)
		if err != nil {
			return err
		}
		after = r.keys()
	}
	return moveCounts(b, before, after)
}

// moveCounts takes one off each count of before and adds one to each of
// after; nothing when they are the same.
func moveCounts(b buckets, before, after []string) error {
	if slices.Equal(before, after) {
		return nil
	}
	for _, k := range before {
		if err := addCount(b.tallies, []byte(k), -1); err != nil {
			return err
		}
	}
	for _, k := range after {
		if err := addCount(b.tallies, []byte(k), 1); err != nil {
			return err
		}
	}
	return nil
}

// putAccepted adds the accepted index entry k and counts its call in its
// hour.
func putAccepted(b buckets, k []byte) error {
	if err := b.accepted.Put(k, nil); err != nil {
		return fmt.Errorf("put accepted: %w", err)
	}
	return addCount(b.tallyHours, encodeTime(store.TallyHour(decodeTime(k))), 1)
}

// deleteAccepted deletes the accepted index entry k and uncounts its call
// from its hour, unless the hour is pruned already.
func deleteAccepted(b buckets, k []byte) error {
	if got, _ := b.accepted.Cursor().Seek(k); !bytes.Equal(got, k) {
		return nil
	}
	if err := b.accepted.Delete(k); err != nil {
		return fmt.Errorf("delete accepted: %w", err)
	}
	hour := encodeTime(store.TallyHour(decodeTime(k)))
	if b.tallyHours.Get(hour) == nil {
		return nil
	}
	return addCount(b.tallyHours, hour, -1)
}

// count reads the count under k.
func count(bucket *bbolt.Bucket, k []byte) int {
	if v := bucket.Get(k); len(v) == 8 {
		return int(int64(binary.BigEndian.Uint64(v)))
	}
	return 0
}

// addCount adds n to the count under k, deleting it at zero.
func addCount(bucket *bbolt.Bucket, k []byte, n int64) error {
	var c int64
	if v := bucket.Get(k); len(v) == 8 {
		c = int64(binary.BigEndian.Uint64(v))
	}
	c += n
	if c == 0 {
		return bucket.Delete(k)
	}
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, uint64(c))
	if err := bucket.Put(k, v); err != nil {
		return fmt.Errorf("put count: %w", err)
	}
	return nil
}

// pruneHours deletes the hours of the tallies before from.
func pruneHours(b buckets, from time.Time) error {
	limit := encodeTime(from)
	var old [][]byte
	c := b.tallyHours.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := b.tallyHours.Delete(k); err != nil {
			return fmt.Errorf("prune tally hour: %w", err)
		}
	}
	return nil
}

// recount counts the tallies of a store that has none (written by an
// earlier release) and marks it as tallied: every job, and the calls of
// the hours kept.
func recount(b buckets, meta *bbolt.Bucket, now time.Time) error {
	if meta.Get(keyTallied) != nil {
		return nil
	}
	for _, bucket := range []*bbolt.Bucket{b.tallies, b.tallyHours, b.counts} {
		var keys [][]byte
		c := bucket.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := bucket.Delete(k); err != nil {
				return err
			}
		}
	}
	r := store.NewRecount()
	calls := b.calls.Stats().KeyN // an earlier release's calls
	err := b.jobs.ForEach(func(k, v []byte) error {
		if isCallKey(k) {
			calls++
			return nil
		}
		v, err := decodeJob(b.done, k, v)
		if err != nil {
			return fmt.Errorf("job %s: %w", k, err)
		}
		keys, err := tallyKeys(v)
		for _, k := range keys {
			r.Counts[k]++
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("recount tallies: %w", err)
	}
	c := b.accepted.Cursor()
	for k, _ := c.Seek(encodeTime(store.TallyFrom(now))); k != nil; k, _ = c.Next() {
		r.AddCall(decodeTime(k))
	}
	for k, n := range r.Counts {
		if err := addCount(b.tallies, []byte(k), n); err != nil {
			return err
		}
	}
	for h, n := range r.Hours {
		if err := addCount(b.tallyHours, encodeTime(h), n); err != nil {
			return err
		}
	}
	if err := addCount(b.counts, keyCalls, int64(calls)); err != nil {
		return err
	}
	if err := addCount(b.counts, keyRejected, int64(b.rejected.Stats().KeyN)); err != nil {
		return err
	}
	return meta.Put(keyTallied, []byte("1"))
}

// Tallies returns the counts the store keeps (see store.Tallies): a read
// of two small buckets, whatever the number of calls.
func (s *Store) Tallies(ctx context.Context) (store.Tallies, error) {
	if err := ctx.Err(); err != nil {
		return store.Tallies{}, fmt.Errorf("bolt: tallies: %w", err)
	}
	counts, hours := map[string]int64{}, map[time.Time]int64{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		err := b.tallies.ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("bad count under %q", k)
			}
			counts[string(k)] = int64(binary.BigEndian.Uint64(v))
			return nil
		})
		if err != nil {
			return err
		}
		return b.tallyHours.ForEach(func(k, v []byte) error {
			if len(k) != timeLen || len(v) != 8 {
				return fmt.Errorf("bad hour count under %x", k)
			}
			hours[decodeTime(k).UTC()] = int64(binary.BigEndian.Uint64(v))
			return nil
		})
	})
	if err != nil {
		return store.Tallies{}, fmt.Errorf("bolt: tallies: %w", err)
	}
	t, err := store.BuildTallies(counts, hours, s.opts.Now())
	if err != nil {
		return store.Tallies{}, fmt.Errorf("bolt: %w", err)
	}
	return t, nil
}
