package bolt

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// Claim hands out up to max jobs due now, oldest due first, each under a
// fresh lease: the job's Lease is a new random token and its DueAt the end
// of the lease, so a job that is never settled becomes due again by
// itself. Attempts is unchanged. max <= 0 claims nothing.
func (s *Store) Claim(ctx context.Context, max int) ([]store.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: claim: %w", err)
	}
	if max <= 0 {
		return nil, nil
	}
	now := s.opts.Now()
	leaseEnd := now.Add(s.opts.Lease)
	nowKey := encodeTime(now)

	var claimed []store.Job
	err := s.db.Batch(func(tx *bbolt.Tx) error {
		claimed = nil
		b := bucketsOf(tx)
		var keys [][]byte
		c := b.due.Cursor()
		for k, _ := c.First(); k != nil && len(keys) < max; k, _ = c.Next() {
			if bytes.Compare(k[:timeLen], nowKey) > 0 {
				break
			}
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			id := keyID(k)
			rec, ok, err := getRecord(b.jobs, id)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("due job %s has no record", id)
			}
			if err := b.due.Delete(k); err != nil {
				return fmt.Errorf("claim job %s: %w", id, err)
			}
			rec.Job.Lease = rand.Text()
			rec.Job.DueAt = leaseEnd
			if err := schedule(b, rec); err != nil {
				return err
			}
			claimed = append(claimed, rec.Job)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: claim: %w", err)
	}
	return claimed, nil
}

// Ack records that j was delivered: the job becomes a done mark, kept for
// the dedup window so that re-planning its call cannot send it again.
// Attempts counts the successful send too. It returns store.ErrLeaseLost
// when j.Lease is not the job's current lease.
func (s *Store) Ack(ctx context.Context, j store.Job) error {
	return s.settle(ctx, "ack", j, func(b buckets, rec *record, now time.Time) error {
		rec.State = store.JobDone
		rec.Settled = now
		return b.done.Put(timeKey(now, rec.Job.Delivery.ID), nil)
	})
}

// Retry schedules j again at at, keeping reason as its LastError. It
// returns store.ErrLeaseLost when j.Lease is not the job's current lease.
func (s *Store) Retry(ctx context.Context, j store.Job, at time.Time, reason string) error {
	return s.settle(ctx, "retry", j, func(b buckets, rec *record, _ time.Time) error {
		rec.Job.DueAt = at
		rec.Job.LastError = reason
		return b.due.Put(timeKey(at, rec.Job.Delivery.ID), nil)
	})
}

// Bury dead-letters j with reason (also kept as its LastError) and code.
// It returns store.ErrLeaseLost when j.Lease is not the job's current
// lease.
func (s *Store) Bury(ctx context.Context, j store.Job, reason, code string) error {
	return s.settle(ctx, "bury", j, func(b buckets, rec *record, now time.Time) error {
		rec.State = store.JobDead
		rec.Settled = now
		rec.Reason = reason
		rec.Code = code
		rec.Job.LastError = reason
		return b.dead.Put(timeKey(now, rec.Job.Delivery.ID), nil)
	})
}

// settle ends the claim of j after checking its lease: it takes the job
// off the due index, clears the lease, counts the attempt, lets apply
// move the job to its next state and index, and writes it back.
func (s *Store) settle(ctx context.Context, op string, j store.Job, apply func(b buckets, rec *record, now time.Time) error) error {
	id := j.Delivery.ID
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: %s %s: %w", op, id, err)
	}
	now := s.opts.Now()
	var lost bool
	err := s.db.Batch(func(tx *bbolt.Tx) error {
		lost = false
		b := bucketsOf(tx)
		rec, ok, err := getRecord(b.jobs, id)
		if err != nil {
			return err
		}
		if !ok || rec.State != store.JobPending || rec.Job.Lease == "" || rec.Job.Lease != j.Lease {
			lost = true
			return nil
		}
		if err := b.due.Delete(timeKey(rec.Job.DueAt, id)); err != nil {
			return err
		}
		rec.Job.Lease = ""
		rec.Job.Attempts++
		if err := apply(b, &rec, now); err != nil {
			return err
		}
		return putRecord(b.jobs, rec)
	})
	if err != nil {
		return fmt.Errorf("bolt: %s %s: %w", op, id, err)
	}
	if lost {
		return fmt.Errorf("bolt: %s %s: %w", op, id, store.ErrLeaseLost)
	}
	return nil
}
