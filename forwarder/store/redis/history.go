package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// callerMember returns the member of the callers index for a call at t by
// the caller key: the key, then t encoded. Keys all have the same length,
// so one caller's members are exactly those with its key as prefix, in
// time order.
func callerMember(key string, t time.Time) string { return key + encodeTime(t) }

// PreviousCall returns the time of the latest call recorded under the
// caller key strictly before before; ok is false when there is none
// younger than the caller history's retention
// (store.Options.CallerHistory), judged by age whether Sweep ran or not.
// It fails with store.ErrInvalidCallerKey for a key forwarder.CallerKey
// did not make. It is one ZREVRANGEBYLEX over the caller's members
// between the retention cutoff and before, both excluded.
func (s *Store) PreviousCall(ctx context.Context, key string, before time.Time) (at time.Time, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("redis: previous call: %w", err)
	}
	if !forwarder.ValidCallerKey(key) {
		return time.Time{}, false, fmt.Errorf("redis: previous call: %w", store.ErrInvalidCallerKey)
	}
	cutoff := s.opts.Now().Add(-s.opts.CallerHistory)
	if !before.After(cutoff) {
		return time.Time{}, false, nil
	}
	ms, err := s.rdb.ZRevRangeByLex(ctx, s.keys.callers, &goredis.ZRangeBy{
		Max:   "(" + callerMember(key, before),
		Min:   "(" + callerMember(key, cutoff),
		Count: 1,
	}).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return time.Time{}, false, fmt.Errorf("redis: previous call: %w", err)
	}
	if len(ms) == 0 {
		return time.Time{}, false, nil
	}
	if len(ms[0]) != len(key)+timeLen {
		return time.Time{}, false, fmt.Errorf("redis: previous call: bad history member of %d bytes", len(ms[0]))
	}
	at, err = decodeTime(ms[0][len(key):])
	if err != nil {
		return time.Time{}, false, fmt.Errorf("redis: previous call: %w", err)
	}
	return at, true, nil
}
