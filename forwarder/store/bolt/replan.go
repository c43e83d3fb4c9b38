package bolt

import (
	"context"
	"math"

	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Replan adds to the stored call sid the deliveries it does not have yet
// (by delivery ID), as pending jobs due now, and returns how many it
// added. Deliveries that exist in any state (pending, done, dead, dropped)
// are left alone, so re-planning a call under fixed rules never re-sends
// what was delivered nor what an operator dropped; with
// opts.IncludeDropped a dropped one is replaced by a new pending job. It
// returns store.ErrNotFound when the call is not stored.
func (s *Store) Replan(ctx context.Context, sid string, deliveries []forwarder.Delivery, opts store.ReplanOptions) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("bolt: replan %s: %w", sid, err)
	}
	now := s.opts.Now()
	_, jobs, err := encodePending(make([]byte, 0, pendingRecordSize*len(deliveries)), nil, sid, deliveries, now)
	if err != nil {
		return 0, fmt.Errorf("bolt: replan %s: %w", sid, err)
	}
	added := 0
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		if v, _ := storedCall(b, []byte(sid)); v == nil {
			return store.ErrNotFound
		}
		for _, j := range jobs {
			if b.jobs.Get(j.id) != nil {
				replace, err := replaceDropped(b, string(j.id), opts)
				if err != nil {
					return err
				}
				if !replace {
					continue
				}
			}
			if err := putNewJob(b, j); err != nil {
				return err
			}
			if err := b.due.Put(j.due, nil); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("bolt: replan %s: %w", sid, err)
	}
	return added, nil
}

// replaceDropped reports whether Replan replaces the existing job id: only
// a tombstone, and only when opts include dropped deliveries. It takes the
// tombstone off its index on the way.
func replaceDropped(b buckets, id string, opts store.ReplanOptions) (bool, error) {
	if !opts.IncludeDropped {
		return false, nil
	}
	rec, _, err := getRecord(b, id)
	if err != nil || rec.State != store.JobDropped {
		return false, err
	}
	if err := b.dropped.Delete(timeKey(rec.Settled, id)); err != nil {
		return false, fmt.Errorf("delete tombstone %s: %w", id, err)
	}
	return true, nil
}

// The range of times unix nanoseconds can hold.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// CallSids returns the Sids of the calls accepted at or after since, oldest
// first, at most limit (all when limit <= 0).
func (s *Store) CallSids(ctx context.Context, since time.Time, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: call sids: %w", err)
	}
	// Times are stored as unix nanoseconds, which cover 1677 to 2262: a
	// since before that range means every call, after it none.
	if since.Before(minTime) {
		since = minTime
	}
	if since.After(maxTime) {
		return nil, nil
	}
	var out []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketAccepted).Cursor()
		for k, _ := c.Seek(encodeTime(since)); k != nil; k, _ = c.Next() {
			if limit > 0 && len(out) >= limit {
				return nil
			}
			out = append(out, keyID(k))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: call sids: %w", err)
	}
	return out, nil
}
