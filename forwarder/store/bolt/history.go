package bolt

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// callerEntry returns the callers key of a call at t by the caller key:
// the key, then t encoded. Keys all have the same length, so one caller's
// entries are exactly those with its key as prefix, in time order.
func callerEntry(key string, t time.Time) []byte {
	k := make([]byte, 0, len(key)+timeLen)
	k = append(k, key...)
	return append(k, encodeTime(t)...)
}

// recordCaller writes a call at t by the caller key, with its expiry
// index entry. Writing the same call twice leaves one entry.
func recordCaller(b buckets, key string, t time.Time) error {
	if err := b.callers.Put(callerEntry(key, t), nil); err != nil {
		return fmt.Errorf("record caller: %w", err)
	}
	if err := b.callersAt.Put(timeKey(t, key), nil); err != nil {
		return fmt.Errorf("record caller: %w", err)
	}
	return nil
}

// PreviousCall returns the time of the latest call recorded under the
// caller key strictly before before; ok is false when there is none
// younger than the caller history's retention
// (store.Options.CallerHistory), judged by age whether Sweep ran or not. It fails with
// store.ErrInvalidCallerKey for a key forwarder.CallerKey did not make.
func (s *Store) PreviousCall(ctx context.Context, key string, before time.Time) (at time.Time, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("bolt: previous call: %w", err)
	}
	if !forwarder.ValidCallerKey(key) {
		return time.Time{}, false, fmt.Errorf("bolt: previous call: %w", store.ErrInvalidCallerKey)
	}
	cutoff := s.opts.Now().Add(-s.opts.CallerHistory)
	prefix := []byte(key)
	err = s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketCallers).Cursor()
		// Seek lands on the first entry at or after before (or nowhere);
		// the entry just before it is the latest one before before.
		k, _ := c.Seek(callerEntry(key, before))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+timeLen {
			return nil
		}
		t := decodeTime(k[len(prefix):])
		if !t.After(cutoff) {
			return nil
		}
		at, ok = t.UTC(), true
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("bolt: previous call: %w", err)
	}
	return at, ok, nil
}
