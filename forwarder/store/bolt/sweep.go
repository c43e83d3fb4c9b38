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
// dedup marks, done marks, tombstones of dropped dead letters and rejected
// requests; and the caller history entries older than its retention
// (store.Options.CallerHistory). Pending jobs and dead letters are never
// swept. The hours of the tallies older than store.TallyKeep are
// pruned. It returns how many calls, done marks, tombstones, rejected
// requests and caller history entries went.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	now := s.opts.Now()
	cutoff := cutoffs{dedup: now.Add(-s.opts.DedupWindow), history: now.Add(-s.opts.CallerHistory)}
	total := 0
	err := s.db.Update(func(tx *bbolt.Tx) error { return pruneHours(bucketsOf(tx), store.TallyFrom(now)) })
	if err != nil {
		return 0, fmt.Errorf("bolt: sweep: %w", err)
	}
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

// cutoffs are the times at or before which entries have expired.
type cutoffs struct {
	dedup   time.Time // calls, done marks, rejected requests
	history time.Time // caller history
}

// sweepOnce handles up to budget expired index entries. It returns the
// records removed and the index entries seen.
func sweepOnce(b buckets, cutoff cutoffs, budget int) (removed, seen int, err error) {
	expiredBefore := func(idx *bbolt.Bucket, t time.Time) [][]byte {
		limit := encodeTime(t)
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
	expired := func(idx *bbolt.Bucket) [][]byte { return expiredBefore(idx, cutoff.dedup) }

	for _, k := range expired(b.accepted) {
		sid := k[timeLen:]
		// Accept moves the index entry when a Sid is accepted again, so
		// the mark matches; checking it keeps a newer call safe anyway.
		m, _, place, inDedup, err := storedMarks(b, sid)
		if err != nil {
			return removed, seen, err
		}
		if m != nil && bytes.Equal(m[:timeLen], k[:timeLen]) {
			if inDedup {
				if err := b.dedup.Delete(sid); err != nil {
					return removed, seen, err
				}
			}
			if err := deleteCall(b, sid, place); err != nil {
				return removed, seen, err
			}
			removed++
		}
		if err := deleteAccepted(b, k); err != nil {
			return removed, seen, err
		}
	}

	for _, state := range []store.JobState{store.JobDone, store.JobDropped} {
		idx := b.settledIndex(state)
		for _, k := range expired(idx) {
			id := keyID(k)
			rec, ok, err := getRecord(b, id)
			if err != nil {
				return removed, seen, err
			}
			if ok && rec.State == state && rec.Settled.Equal(decodeTime(k)) {
				if err := deleteJob(b, []byte(id)); err != nil {
					return removed, seen, err
				}
				removed++
			}
			if err := idx.Delete(k); err != nil {
				return removed, seen, err
			}
		}
	}

	for _, k := range expired(b.rejected) {
		if err := deleteCounted(b, b.rejected, keyRejected, k); err != nil {
			return removed, seen, err
		}
		removed++
	}

	for _, k := range expiredBefore(b.callersAt, cutoff.history) {
		if err := b.callers.Delete(callerEntry(keyID(k), decodeTime(k))); err != nil {
			return removed, seen, err
		}
		if err := b.callersAt.Delete(k); err != nil {
			return removed, seen, err
		}
		removed++
	}
	return removed, seen, nil
}
