package redis

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store"
)

// Reject keeps a refused request for inspection and replay. An empty At
// is set to now and an empty ID to a new one that sorts by At.
func (s *Store) Reject(ctx context.Context, r store.Rejected) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: reject: %w", err)
	}
	if r.At.IsZero() {
		r.At = s.opts.Now()
	}
	if r.ID == "" {
		r.ID = newRejectedID(r)
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("redis: reject %s: encode: %w", r.ID, err)
	}
	member := encodeTime(r.At) + r.ID
	k := s.keys
	_, err = s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, k.rejected, member, v)
		p.ZAdd(ctx, k.rejectedAt, goredis.Z{Member: member})
		p.PExpire(ctx, k.rejected, s.ttl)
		p.PExpire(ctx, k.rejectedAt, s.ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: reject %s: %w", r.ID, err)
	}
	return nil
}

// newRejectedID returns an ID for r that sorts by r.At: the sortable time
// in hex, then random characters so that two requests in the same
// nanosecond differ.
func newRejectedID(r store.Rejected) string {
	return encodeTime(r.At) + "-" + rand.Text()[:10]
}

// RejectedRequests lists up to limit rejected requests, newest first;
// limit <= 0 lists them all.
func (s *Store) RejectedRequests(ctx context.Context, limit int) ([]store.Rejected, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: rejected requests: %w", err)
	}
	vs, err := s.list(ctx, s.keys.rejectedAt, s.keys.rejected, "member", limit)
	if err != nil {
		return nil, fmt.Errorf("redis: rejected requests: %w", err)
	}
	out := make([]store.Rejected, len(vs))
	for i, v := range vs {
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			return nil, fmt.Errorf("redis: rejected requests: decode: %w", err)
		}
	}
	return out, nil
}
