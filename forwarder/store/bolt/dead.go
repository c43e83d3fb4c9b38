package bolt

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// DeadLetters lists up to limit dead letters, most recently buried first;
// limit <= 0 lists them all. A dead letter's ID is its job's Delivery.ID.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]store.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: dead letters: %w", err)
	}
	var out []store.DeadLetter
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		c := b.dead.Cursor()
		for k, _ := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, _ = c.Prev() {
			rec, ok, err := getRecord(b, keyID(k))
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("dead job %s has no record", keyID(k))
			}
			out = append(out, rec.deadLetter())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: dead letters: %w", err)
	}
	return out, nil
}

// RetryDead makes the dead letter id pending again: due now, Attempts back
// to 0, LastError kept. It returns store.ErrNotFound when id is not a dead
// letter.
func (s *Store) RetryDead(ctx context.Context, id string) error {
	return s.updateDead(ctx, "retry dead", id, func(b buckets, rec record) error {
		rec.Job.DueAt = s.opts.Now()
		rec.Job.Attempts = 0
		rec.Settled = time.Time{}
		rec.Reason, rec.Code, rec.Kind, rec.Request = "", "", "", ""
		// A resent delivery gets a new outcome.
		rec.Job.Verdict = nil
		return schedule(b, rec)
	})
}

// DropDead turns the dead letter id into a tombstone (store.JobDropped),
// kept for the dedup window from now so that Replan and Accept leave the
// delivery alone. It returns store.ErrNotFound when id is not a dead
// letter.
func (s *Store) DropDead(ctx context.Context, id string) error {
	return s.updateDead(ctx, "drop dead", id, func(b buckets, rec record) error {
		rec.State, rec.Settled = store.JobDropped, s.opts.Now()
		if err := putRecord(b, rec); err != nil {
			return err
		}
		return b.dropped.Put(timeKey(rec.Settled, id), nil)
	})
}

// updateDead takes the dead letter id off the dead index and hands its
// record to apply.
func (s *Store) updateDead(ctx context.Context, op, id string, apply func(b buckets, rec record) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: %s %s: %w", op, id, err)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		rec, ok, err := getRecord(b, id)
		if err != nil {
			return err
		}
		if !ok || rec.State != store.JobDead {
			return store.ErrNotFound
		}
		if err := b.dead.Delete(timeKey(rec.Settled, id)); err != nil {
			return err
		}
		return apply(b, rec)
	})
	if err != nil {
		return fmt.Errorf("bolt: %s %s: %w", op, id, err)
	}
	return nil
}
