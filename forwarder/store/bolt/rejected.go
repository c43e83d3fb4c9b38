package bolt

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// Reject keeps a refused request for inspection and replay. An empty At
// is set to now and an empty ID to a new one that sorts by At.
func (s *Store) Reject(ctx context.Context, r store.Rejected) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: reject: %w", err)
	}
	if r.At.IsZero() {
		r.At = s.opts.Now()
	}
	if r.ID == "" {
		r.ID = newRejectedID(r)
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("bolt: reject %s: encode: %w", r.ID, err)
	}
	key := timeKey(r.At, r.ID)
	err = s.write(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		return putCounted(b, b.rejected, keyRejected, key, v)
	})
	if err != nil {
		return fmt.Errorf("bolt: reject %s: %w", r.ID, err)
	}
	return nil
}

// newRejectedID returns an ID for r that sorts by r.At: the sortable time
// in hex, then random characters so that two requests in the same
// nanosecond differ.
func newRejectedID(r store.Rejected) string {
	return fmt.Sprintf("%016x-%s", binary.BigEndian.Uint64(encodeTime(r.At)), rand.Text()[:10])
}

// RejectedRequests lists up to limit rejected requests, newest first;
// limit <= 0 lists them all.
func (s *Store) RejectedRequests(ctx context.Context, limit int) ([]store.Rejected, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: rejected requests: %w", err)
	}
	var out []store.Rejected
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRejected).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var r store.Rejected
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode rejected %s: %w", keyID(k), err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: rejected requests: %w", err)
	}
	return out, nil
}
