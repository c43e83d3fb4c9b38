package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// newJob is a job ready to be written by Accept: encoded outside the
// transaction, which may run more than once.
type newJob struct {
	id []byte
	// value is the record as stored (encodeJob).
	value []byte
	due   []byte
	// tally is the keys the pending job counts under (pendingKeys).
	tally []string
}

// Accept stores call and one pending job per delivery (due now, no
// attempts yet) together with the dedup mark of call.Event and call.Sid,
// in one atomic, fsynced step. It returns store.ErrDuplicate, writing
// nothing, when the same event of call.Sid was accepted less than the
// dedup window ago. The events of one call (Call.Initiate, Call.Complete)
// are each accepted once (see marks); the stored call is the latest
// accepted, except that a Call.Complete still in its window is kept.
//
// An event accepted again after its window is new: its dedup mark and
// call are replaced. A job of the same ID that still exists is kept as it
// is when it is pending or dead (it is not settled) or when it is a done
// mark or a tombstone (store.JobDropped) younger than the window (so it is
// not sent twice, nor against a decision); only an expired one is replaced
// by a new pending job.
//
// When call.History carries a caller key, the call's time is recorded in
// the caller's history in the same transaction (see PreviousCall).
//
// Every delivery must belong to call: Delivery.CallSid equal to call.Sid
// and Delivery.ID under call.Sid (see forwarder.DeliveryID).
func (s *Store) Accept(ctx context.Context, call *forwarder.Call, deliveries []forwarder.Delivery) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: accept: %w", err)
	}
	if call == nil || call.Sid == "" {
		return errors.New("bolt: accept: call has no Sid")
	}
	now := s.opts.Now()
	sid := []byte(call.Sid)
	// The call and every job are encoded into one buffer, each value a
	// slice of it, which stays valid through the transaction.
	buf, err := store.AppendCall(make([]byte, 0, callSize+pendingRecordSize*len(deliveries)), call)
	if err != nil {
		return fmt.Errorf("bolt: accept %s: %w", call.Sid, err)
	}
	callValue, jobs, err := encodePending(buf[len(buf):], buf[:len(buf):len(buf)], call.Sid, deliveries, now)
	if err != nil {
		return fmt.Errorf("bolt: accept %s: %w", call.Sid, err)
	}
	acceptedKey := timeKey(now, call.Sid)
	jobsPrefix := []byte(call.Sid + "/")
	callerKey, callerAt, record, err := store.CallerToRecord(call, now)
	if err != nil {
		return fmt.Errorf("bolt: accept %s: %w", call.Sid, err)
	}

	var duplicate bool
	err = s.write(func(tx *bbolt.Tx) error {
		duplicate = false
		b := bucketsOf(tx)
		m := marks{}
		v, stored, place, inDedup, err := storedMarks(b, sid)
		if err != nil {
			return err
		}
		if v != nil {
			old, err := decodeMarks(stored, sid, v)
			if err != nil {
				return err
			}
			m = old.live(now, s.opts.DedupWindow)
			if _, ok := m.of(call.Event); ok {
				duplicate = true
				return nil
			}
			if err := deleteAccepted(b, timeKey(decodeTime(v), call.Sid)); err != nil {
				return err
			}
		}
		// The stored call is the latest one accepted, except that a
		// Call.Complete in its window is not replaced by another event
		// of its call: it says more.
		_, complete := m[forwarder.EventComplete]
		if call.Event == forwarder.EventComplete || !complete || stored == nil {
			stored = callValue
		}
		m[call.Event] = now
		// storedMarks told where the call was: a new one counts, one an
		// earlier release kept in the calls bucket moves.
		if err := b.jobs.Put(callKey(sid), joinCall(m.encode(now), stored)); err != nil {
			return err
		}
		switch place {
		case callNowhere:
			if err := addCount(b.counts, keyCalls, 1); err != nil {
				return err
			}
		case callInCalls:
			if err := b.calls.Delete(sid); err != nil {
				return err
			}
		}
		if inDedup {
			if err := b.dedup.Delete(sid); err != nil {
				return err
			}
		}
		if err := putAccepted(b, acceptedKey); err != nil {
			return err
		}
		if record {
			if err := recordCaller(b, callerKey, callerAt); err != nil {
				return err
			}
		}
		// A new call has no job yet, which one seek tells for all its
		// deliveries (a job under the prefix may be another call's,
		// whose Sid extends this one: then each is looked up).
		existing := hasKeyPrefix(b.jobs, jobsPrefix)
		for _, j := range jobs {
			if existing {
				keep, err := s.keepExisting(b, j.id, now)
				if err != nil {
					return err
				}
				if keep {
					continue
				}
			}
			if err := putNewJob(b, j); err != nil {
				return err
			}
			if err := b.due.Put(j.due, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bolt: accept %s: %w", call.Sid, err)
	}
	if duplicate {
		return fmt.Errorf("bolt: accept %s: %w", call.Sid, store.ErrDuplicate)
	}
	return nil
}

// hasKeyPrefix reports whether bucket holds a key that starts with prefix.
func hasKeyPrefix(bucket *bbolt.Bucket, prefix []byte) bool {
	k, _ := bucket.Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

// keepExisting reports whether the job id already stored must be kept
// rather than replaced by a new pending job; an expired done mark or
// tombstone is deleted, with its record, on the way.
func (s *Store) keepExisting(b buckets, id []byte, now time.Time) (bool, error) {
	rec, ok, err := getRecord(b, string(id))
	if err != nil || !ok {
		return false, err
	}
	idx := b.settledIndex(rec.State)
	if idx == nil || now.Sub(rec.Settled) < s.opts.DedupWindow {
		return true, nil
	}
	if err := deleteJob(b, id); err != nil {
		return false, err
	}
	if err := idx.Delete(timeKey(rec.Settled, string(id))); err != nil {
		return false, fmt.Errorf("delete %s mark %s: %w", rec.State, id, err)
	}
	return false, nil
}

// write runs fn, a write of intake, in a write transaction of the
// committer (commit.go): a lone writer commits at once, and writers that
// arrive while a commit is running share the next transaction and its
// fsync, ahead of the queue's writes. fn may run more than once, so it
// must be idempotent. A failure for lack of space is remembered for Ping.
func (s *Store) write(fn func(tx *bbolt.Tx) error) error {
	err := s.commits.updateIntake(fn)
	s.space.note(err)
	return err
}
