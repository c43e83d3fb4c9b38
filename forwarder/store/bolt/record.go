package bolt

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// record is the value of a job in the jobs bucket.
type record struct {
	Job   store.Job      `json:"job"`
	State store.JobState `json:"state"`
	// Settled is when the job became done or dead; it locates the job's
	// key in the done or dead index.
	Settled time.Time `json:"settled,omitzero"`
	// Reason and Code are the burial's, while dead.
	Reason string `json:"reason,omitempty"`
	Code   string `json:"code,omitempty"`
	// Kind is the dead letter's kind ("" for store.DeadSend), while dead
	// or dropped.
	Kind string `json:"kind,omitempty"`
	// Request is the Data Manager request that carried the job when
	// AckPolled acknowledged it: ResolvePoll records verdicts only on a
	// job done by the request polled.
	Request string `json:"request,omitempty"`
}

// getRecord reads the job record of id; ok is false when there is none.
// Only a record found is allocated: the usual miss (Accept of a new call)
// costs a lookup.
func getRecord(b buckets, id string) (record, bool, error) {
	key := []byte(id)
	v, err := decodeJob(b.done, key, b.jobs.Get(key))
	if err != nil {
		return record{}, false, fmt.Errorf("job %s: %w", id, err)
	}
	if v == nil {
		return record{}, false, nil
	}
	var rec record
	if err := json.Unmarshal(v, &rec); err != nil {
		return record{}, false, fmt.Errorf("decode job %s: %w", id, err)
	}
	return rec, true, nil
}

// putRecord writes rec under its delivery ID, keeping the tallies.
func putRecord(b buckets, rec record) error {
	v, err := appendRecord(nil, &rec)
	if err != nil {
		return err
	}
	return putJob(b, []byte(rec.Job.Delivery.ID), rec.State, rec.Settled, v)
}

// putDoneRecord writes the done record rec as putRecord does, keeping only
// what is still read of its delivery (store.DoneDelivery), compact
// (encodeJob).
func putDoneRecord(b buckets, rec record) error {
	id := rec.Job.Delivery.ID
	d, err := store.EncodeDoneDelivery(rec.Job.Delivery)
	if err != nil {
		return err
	}
	j := rec.Job
	raw := rawRecord{
		Job: rawJob{
			Delivery: d, Attempts: j.Attempts, DueAt: j.DueAt, LastError: j.LastError, Lease: j.Lease,
			History: j.History, Verdict: j.Verdict,
		},
		State: rec.State, Settled: rec.Settled, Reason: rec.Reason, Code: rec.Code, Kind: rec.Kind, Request: rec.Request,
	}
	return putRawRecord(b, id, raw)
}

// rawRecord is a record whose delivery stays encoded. Claim and the
// settlements change only the job's envelope (lease, due time, attempts,
// state), so they neither decode nor encode the delivery inside the write
// transaction, which every writer waits for. It encodes to the same JSON
// as record.
type rawRecord struct {
	Job     rawJob         `json:"job"`
	State   store.JobState `json:"state"`
	Settled time.Time      `json:"settled,omitzero"`
	Reason  string         `json:"reason,omitempty"`
	Code    string         `json:"code,omitempty"`
	Kind    string         `json:"kind,omitempty"`
	Request string         `json:"request,omitempty"`
}

// rawJob is store.Job with the delivery left encoded.
type rawJob struct {
	Delivery  json.RawMessage    `json:"delivery"`
	Attempts  int                `json:"attempts"`
	DueAt     time.Time          `json:"due_at"`
	LastError string             `json:"last_error,omitempty"`
	Lease     string             `json:"lease,omitempty"`
	History   []store.Attempt    `json:"history,omitempty"`
	Verdict   *forwarder.Verdict `json:"verdict,omitempty"`
}

// getRawRecord reads the job record of id, its delivery left encoded; ok
// is false when there is none.
func getRawRecord(b buckets, id string) (rawRecord, bool, error) {
	key := []byte(id)
	rec, ok, err := decodeStoredRaw(b.done, key, b.jobs.Get(key))
	if err != nil {
		return rawRecord{}, false, fmt.Errorf("job %s: %w", id, err)
	}
	return rec, ok, nil
}

// decodeStoredRaw decodes stored, the value of the job key as the jobs
// bucket holds it, into a record with its delivery left encoded; ok is
// false for nil. A compressed or compact value decodes into a slice of
// its own; plain JSON is stored's, which the record then shares (valid
// only as long as stored is).
func decodeStoredRaw(done *bbolt.Bucket, key, stored []byte) (rec rawRecord, ok bool, err error) {
	v, err := decodeJob(done, key, stored)
	if err != nil || v == nil {
		return rawRecord{}, false, err
	}
	owned := len(v) > 0 && len(stored) > 0 && &v[0] != &stored[0]
	if err := decodeRawRecordOwned(v, &rec, owned); err != nil {
		return rawRecord{}, false, fmt.Errorf("decode: %w", err)
	}
	return rec, true, nil
}

// leased sets rec to claimed under a new lease ending at leaseEnd: pending,
// a new random lease token, due when the lease ends.
func (rec *rawRecord) leased(leaseEnd time.Time) {
	rec.State = store.JobPending
	rec.Job.Lease = rand.Text()
	rec.Job.DueAt = leaseEnd
}

// putRawRecord writes rec under id, keeping the tallies.
func putRawRecord(b buckets, id string, rec rawRecord) error {
	v, err := encodeRawRecord(rec)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", id, err)
	}
	return putJob(b, []byte(id), rec.State, rec.Settled, v)
}

// putLease writes rec under id when only its lease (Lease, DueAt)
// changed, which counts for nothing in the tallies: Claim and Extend.
func putLease(jobs *bbolt.Bucket, id string, rec rawRecord) error {
	v, err := encodeRawRecord(rec)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", id, err)
	}
	key := []byte(id)
	if err := jobs.Put(key, encodeJob(key, rec.State, v)); err != nil {
		return fmt.Errorf("put job %s: %w", id, err)
	}
	return nil
}

// rawPrefix is how every encoded record starts: the delivery is the first
// field of the job, as store.Job declares it.
var rawPrefix = []byte(`{"job":{"delivery":`)

// jsonNull is what encoding/json writes for a nil json.RawMessage.
const jsonNull = "null"

// decodeRawRecord decodes v into rec without parsing the delivery: it
// finds the end of the delivery object, copies its bytes, and decodes
// only the small rest of the record, directly when it is laid out as
// the store writes it (recordTail), by encoding/json otherwise. A record
// that does not start with rawPrefix, or whose delivery is not an
// object, is decoded by encoding/json as a whole, which also reports
// what is wrong with it. The delivery bytes were checked by
// encoding/json when the record was first written; a delivery damaged
// since fails when it is decoded for a send (rawRecord.job).
func decodeRawRecord(v []byte, rec *rawRecord) error {
	return decodeRawRecordOwned(v, rec, false)
}

// decodeRawRecordOwned is decodeRawRecord, rec's delivery a slice of v
// rather than a copy when owned (v is the caller's to give away).
func decodeRawRecordOwned(v []byte, rec *rawRecord, owned bool) error {
	if bytes.HasPrefix(v, rawPrefix) {
		if end, ok := objectEnd(v, len(rawPrefix)); ok {
			*rec = rawRecord{}
			if !recordTail(v[end:], rec) {
				*rec = rawRecord{}
				rest := make([]byte, 0, len(rawPrefix)+len(jsonNull)+len(v)-end)
				rest = append(append(append(rest, rawPrefix...), jsonNull...), v[end:]...)
				if json.Unmarshal(rest, rec) != nil {
					*rec = rawRecord{}
					return json.Unmarshal(v, rec)
				}
			}
			if owned {
				rec.Job.Delivery = v[len(rawPrefix):end:end]
			} else {
				rec.Job.Delivery = bytes.Clone(v[len(rawPrefix):end])
			}
			return nil
		}
	}
	*rec = rawRecord{}
	return json.Unmarshal(v, rec)
}

// objectEnd returns the index just past the JSON object that starts at
// v[i], matching braces and brackets outside strings; ok is false when no
// object starts there or it does not end.
func objectEnd(v []byte, i int) (end int, ok bool) {
	if i >= len(v) || v[i] != '{' {
		return 0, false
	}
	depth, inString := 0, false
	for ; i < len(v); i++ {
		c := v[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte cannot end the string
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}

// rawRecordTail is about the length of a record without its delivery
// (its envelope, a short history, a verdict), so that encodeRawRecord
// allocates once.
const rawRecordTail = 384

// encodeRawRecord returns the encoding of rec (appendRawRecord): the
// delivery's bytes spliced in, the rest written without reflection.
func encodeRawRecord(rec rawRecord) ([]byte, error) {
	return appendRawRecord(make([]byte, 0, len(rec.Job.Delivery)+rawRecordTail), &rec)
}

// job decodes the job rec stands for.
func (r rawRecord) job() (store.Job, error) {
	j := store.Job{
		Attempts: r.Job.Attempts, DueAt: r.Job.DueAt, LastError: r.Job.LastError, Lease: r.Job.Lease,
		History: r.Job.History, Verdict: r.Job.Verdict,
	}
	if err := json.Unmarshal(r.Job.Delivery, &j.Delivery); err != nil {
		return store.Job{}, fmt.Errorf("decode delivery: %w", err)
	}
	return j, nil
}

// deadLetter returns the dead letter a dead record stands for.
func (r record) deadLetter() store.DeadLetter {
	return store.DeadLetter{Job: r.Job, Reason: r.Reason, Code: r.Code, At: r.Settled, Kind: r.Kind}
}

// info returns the job as Jobs reports it.
func (r record) info() store.JobInfo {
	return store.JobInfo{Job: r.Job, State: r.State, Kind: r.Kind}
}
