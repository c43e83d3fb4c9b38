package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// sweepChunk bounds the index entries one sweep transaction handles, so
// that a large backlog does not hold the writer lock for long.
const sweepChunk = 1000

// Sweep deletes what has outlived the dedup window: calls with their
// dedup marks, done marks and rejected requests. Pending jobs and dead
// letters are never swept. It returns how many calls, done marks and
// rejected requests went.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	cutoff := s.opts.Now().Add(-s.opts.DedupWindow)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("bolt: sweep: %w", err)
		}
		var removed, seen int
		err := s.db.Update(func(tx *bbolt.Tx) error {
			var err error
			removed, seen, err = sweepOnce(bucketsOf(tx), cutoff, sweepChunk)
			return err
		})
		total += removed
		if err != nil {
			return total, fmt.Errorf("bolt: sweep: %w", err)
		}
		if seen < sweepChunk {
			return total, nil
		}
	}
}

// sweepOnce handles up to budget index entries at or before cutoff. It
// returns the records removed and the index entries seen.
func sweepOnce(b buckets, cutoff time.Time, budget int) (removed, seen int, err error) {
	limit := encodeTime(cutoff)
	expired := func(idx *bbolt.Bucket) [][]byte {
		var keys [][]byte
		c := idx.Cursor()
		for k, _ := c.First(); k != nil && seen < budget; k, _ = c.Next() {
			if bytes.Compare(k[:timeLen], limit) > 0 {
				break
			}
			keys = append(keys, bytes.Clone(k))
			seen++
		}
		return keys
	}

	for _, k := range expired(b.accepted) {
		sid := k[timeLen:]
		// Accept moves the index entry when a Sid is accepted again, so
		// the mark matches; checking it keeps a newer call safe anyway.
		if v := b.dedup.Get(sid); v != nil && bytes.Equal(v, k[:timeLen]) {
			if err := b.dedup.Delete(sid); err != nil {
				return removed, seen, err
			}
			if err := b.calls.Delete(sid); err != nil {
				return removed, seen, err
			}
			removed++
		}
		if err := b.accepted.Delete(k); err != nil {
			return removed, seen, err
		}
	}

	for _, k := range expired(b.done) {
		id := keyID(k)
		rec, ok, err := getRecord(b.jobs, id)
		if err != nil {
			return removed, seen, err
		}
		if ok && rec.State == store.JobDone && rec.Settled.Equal(decodeTime(k)) {
			if err := b.jobs.Delete([]byte(id)); err != nil {
				return removed, seen, err
			}
			removed++
		}
		if err := b.done.Delete(k); err != nil {
			return removed, seen, err
		}
	}

	for _, k := range expired(b.rejected) {
		if err := b.rejected.Delete(k); err != nil {
			return removed, seen, err
		}
		removed++
	}
	return removed, seen, nil
}
