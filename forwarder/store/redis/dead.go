package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store"
)

// listScript reads an index newest first with the values it points to.
//
//	KEYS: index hash
//	ARGV: limit (negative: all), field ("id": the member without its
//	time, "member": the whole member)
//	returns the values
var listScript = goredis.NewScript(`
local ms = redis.call('ZREVRANGEBYLEX', KEYS[1], '+', '-', 'LIMIT', 0, ARGV[1])
local out = {}
for _, m in ipairs(ms) do
  local f = m
  if ARGV[2] == 'id' then f = string.sub(m, 17) end
  local v = redis.call('HGET', KEYS[2], f)
  if not v then return redis.error_reply('indexed ' .. f .. ' has no value') end
  out[#out + 1] = v
end
return out
`)

// list returns up to limit values of index (all when limit <= 0), newest
// first.
func (s *Store) list(ctx context.Context, index, hash, field string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = -1
	}
	res, err := s.run(ctx, listScript, []string{index, hash}, limit, field)
	if err != nil {
		return nil, err
	}
	return stringsOf(res)
}

// DeadLetters lists up to limit dead letters, most recently buried first;
// limit <= 0 lists them all. A dead letter's ID is its job's Delivery.ID.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]store.DeadLetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: dead letters: %w", err)
	}
	vs, err := s.list(ctx, s.keys.dead, s.keys.jobs, "id", limit)
	if err != nil {
		return nil, fmt.Errorf("redis: dead letters: %w", err)
	}
	out := make([]store.DeadLetter, 0, len(vs))
	for _, v := range vs {
		dl, err := decodeDeadLetter(v)
		if err != nil {
			return nil, fmt.Errorf("redis: dead letters: %w", err)
		}
		out = append(out, dl)
	}
	return out, nil
}

// deadScript takes a dead letter off the dead index and makes it pending
// again (retry) or a tombstone (drop); its counts in the tallies move
// with it (a pending job and a tombstone count under no outcome).
//
//	KEYS: jobs due dead dropped tallies
//	ARGV: id op now
//	returns 1, or 0 when id is not a dead letter
var deadScript = goredis.NewScript(luaTally + `
local id, op, now = ARGV[1], ARGV[2], ARGV[3]
if op ~= 'retry' and op ~= 'drop' then return redis.error_reply('unknown dead letter op ' .. op) end
local v = redis.call('HGET', KEYS[1], id)
if not v then return 0 end
local r = cjson.decode(v)
if r.state ~= 'dead' then return 0 end
redis.call('ZREM', KEYS[3], r.settled .. id)
untally(KEYS[5], r)
if op == 'drop' then
  r.state, r.settled = 'dropped', now
  tally(KEYS[5], r, '')
  redis.call('HSET', KEYS[1], id, cjson.encode(r))
  redis.call('ZADD', KEYS[4], 0, now .. id)
  flushTallies()
  return 1
end
r.state, r.due, r.attempts = 'pending', now, 0
r.settled, r.reason, r.code, r.lease = nil, nil, nil, nil
-- A resent delivery gets a new outcome.
r.verdict, r.kind, r.request = nil, nil, nil
tally(KEYS[5], r, '')
redis.call('HSET', KEYS[1], id, cjson.encode(r))
redis.call('ZADD', KEYS[2], 0, now .. id)
flushTallies()
return 1
`)

// RetryDead makes the dead letter id pending again: due now, Attempts back
// to 0, LastError kept. It returns store.ErrNotFound when id is not a dead
// letter.
func (s *Store) RetryDead(ctx context.Context, id string) error {
	return s.updateDead(ctx, "retry dead", "retry", id)
}

// DropDead turns the dead letter id into a tombstone (store.JobDropped),
// kept for the dedup window from now so that Replan and Accept leave the
// delivery alone. It returns store.ErrNotFound when id is not a dead
// letter.
func (s *Store) DropDead(ctx context.Context, id string) error {
	return s.updateDead(ctx, "drop dead", "drop", id)
}

// updateDead runs deadScript for op on the dead letter id.
func (s *Store) updateDead(ctx context.Context, name, op, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: %s %s: %w", name, id, err)
	}
	k := s.keys
	res, err := s.run(ctx, deadScript, []string{k.jobs, k.due, k.dead, k.dropped, k.tallies}, id, op, encodeTime(s.opts.Now()))
	if err != nil {
		return fmt.Errorf("redis: %s %s: %w", name, id, err)
	}
	switch res {
	case int64(1):
		return nil
	case int64(0):
		return fmt.Errorf("redis: %s %s: %w", name, id, store.ErrNotFound)
	}
	return fmt.Errorf("redis: %s %s: script returned %v", name, id, res)
}
