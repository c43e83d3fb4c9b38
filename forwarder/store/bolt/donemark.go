package bolt

import (
	"fmt"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

// A done job's record lives in the done index, as the value of its key
// (done-at + delivery ID): that index grows at its end, so the records of
// the jobs done for the dedup window fill their pages, in the order they
// settled. The jobs bucket keeps under the delivery ID only where the
// record is, a done mark:
//
//	valueDone settled     settled: the done-at time as encodeTime writes it
//
// A job's record while pending, dead or dropped stays in the jobs bucket,
// where a claim or an operator finds it by ID; it shrinks to a mark once
// done, so the pages of the jobs bucket, whose keys land anywhere, hold the
// jobs in flight and a few bytes of each done one. A done record as
// earlier releases wrote it (in the jobs bucket, the done index's value
// empty) reads as it is; it goes when Sweep or a new state replaces it.
//
// Every write of a job's value goes through putJobValue, every read
// through decodeJob, and every delete through deleteJob, which keep the
// mark and the record together; a done job that changes state (Google
// rejects it, a new event past the dedup window plans it again) has its
// record deleted from the done index as its mark is replaced.

// valueDone starts a done mark (see value.go for the other formats).
const valueDone byte = 0x02

// doneMarkLen is the length of a done mark.
const doneMarkLen = 1 + timeLen

// doneMark returns the done mark of a job done at settled.
func doneMark(settled time.Time) []byte {
	return append([]byte{valueDone}, encodeTime(settled)...)
}

// isDoneMark reports whether stored, a value of the jobs bucket, is a
// done mark.
func isDoneMark(stored []byte) bool { return len(stored) == doneMarkLen && stored[0] == valueDone }

// markedKey returns the done index key the jobs bucket's value stored,
// under id, points to; ok is false when stored is no done mark.
func markedKey(id, stored []byte) (key []byte, ok bool) {
	if !isDoneMark(stored) {
		return nil, false
	}
	key = make([]byte, 0, timeLen+len(id))
	return append(append(key, stored[1:]...), id...), true
}

// putJobValue writes stored, the stored value (encodeJob) of a job in
// state, settled at settled, under id: a done job's in the done index
// with its mark in the jobs bucket, any other's in the jobs bucket. A
// writer that replaces a done mark deletes its record (deleteJob, or the
// done key); one it missed would stay only until Sweep, which deletes a
// done key its job no longer points to.
func putJobValue(b buckets, id []byte, state store.JobState, settled time.Time, stored []byte) error {
	if state == store.JobDone {
		if err := b.done.Put(timeKey(settled, string(id)), stored); err != nil {
			return fmt.Errorf("put done record %s: %w", id, err)
		}
		stored = doneMark(settled)
		// bbolt merges a page that fell below a quarter full only when a
		// key was deleted from it: a record shrunk in place would leave
		// its page as empty as it made it.
		if err := b.jobs.Delete(id); err != nil {
			return fmt.Errorf("put job %s: %w", id, err)
		}
	}
	if err := b.jobs.Put(id, stored); err != nil {
		return fmt.Errorf("put job %s: %w", id, err)
	}
	return nil
}
