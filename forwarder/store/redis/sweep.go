package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store"
)

// sweepChunk bounds the index entries one sweep script handles, so that a
// large backlog does not block the server for long.
const sweepChunk = 1000

// sweepScript removes up to a budget of expired index entries with what
// they point to: calls with their dedup marks, done marks, tombstones, rejected
// requests, caller history entries. An index entry whose value has moved
// on (a Sid accepted again, a done mark replaced) is dropped without
// touching the value.
//
// The tallies lose what goes: a call its hour, a job its counts.
//
//	KEYS: dedup calls accepted jobs ids done rejected rejected:at callers callers:at dropped
//	      tallies tally:hours plans
//	ARGV: upper bound of the expired entries, budget, upper bound of the
//	      expired caller history entries
//	returns {removed, seen}
var sweepScript = goredis.NewScript(luaTally + luaPlan + `
local bound, budget, historyBound = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local removed, seen = 0, 0
local function expired(index, upper)
  if seen >= budget then return {} end
  local ms = redis.call('ZRANGEBYLEX', index, '-', upper or bound, 'LIMIT', 0, budget - seen)
  seen = seen + #ms
  return ms
end

for _, m in ipairs(expired(KEYS[3])) do
  local at, sid = string.sub(m, 1, 16), string.sub(m, 17)
  local v = redis.call('HGET', KEYS[1], sid)
  if v and string.sub(v, 1, 16) == at then
    redis.call('HDEL', KEYS[1], sid)
    redis.call('HDEL', KEYS[2], sid)
    removed = removed + 1
  end
  if redis.call('ZREM', KEYS[3], m) == 1 then countHour(KEYS[13], at, -1) end
end

for _, settled in ipairs({{KEYS[6], 'done'}, {KEYS[11], 'dropped'}}) do
  local index, state = settled[1], settled[2]
  for _, m in ipairs(expired(index)) do
    local at, id = string.sub(m, 1, 16), string.sub(m, 17)
    local v = redis.call('HGET', KEYS[4], id)
    if v then
      local r = cjson.decode(v)
      if r.state == state and r.settled == at then
        redis.call('HDEL', KEYS[4], id)
        redis.call('ZREM', KEYS[5], id)
        local ok, d = pcall(cjson.decode, r.delivery)
        if ok and type(d) == 'table' and type(d.call_sid) == 'string' then dropPlan(KEYS[14], d.call_sid, id) end
        untally(KEYS[12], r)
        removed = removed + 1
      end
    end
    redis.call('ZREM', index, m)
  end
end

for _, m in ipairs(expired(KEYS[8])) do
  redis.call('HDEL', KEYS[7], m)
  redis.call('ZREM', KEYS[8], m)
  removed = removed + 1
end

for _, m in ipairs(expired(KEYS[10], historyBound)) do
  redis.call('ZREM', KEYS[9], string.sub(m, 17) .. string.sub(m, 1, 16))
  redis.call('ZREM', KEYS[10], m)
  removed = removed + 1
end
flushTallies()
return {removed, seen}
`)

// Sweep deletes what has outlived the dedup window: calls with their
// dedup marks, done marks, tombstones of dropped dead letters and rejected
// requests; and the caller history entries older than its retention
// (store.Options.CallerHistory). Pending jobs and dead letters are never
// swept. The hours of the tallies older than store.TallyKeep are
// pruned. It returns how many calls, done marks, tombstones, rejected
// requests and caller history entries went. It works in
// chunks of one script each, so it may stop half-way on an error; the
// next Sweep carries on.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	now := s.opts.Now()
	bound := upTo(now.Add(-s.opts.DedupWindow))
	historyBound := upTo(now.Add(-s.opts.CallerHistory))
	k := s.keys
	keys := []string{k.dedup, k.calls, k.accepted, k.jobs, k.ids, k.done, k.rejected, k.rejectedAt, k.callers, k.callersAt, k.dropped, k.tallies, k.tallyHours, k.plans}
	total := 0
	if _, err := s.run(ctx, pruneHoursScript, []string{k.tallyHours}, unixHour(store.TallyFrom(now))); err != nil {
		return 0, fmt.Errorf("redis: sweep: prune tally hours: %w", err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("redis: sweep: %w", err)
		}
		removed, seen, err := s.sweepOnce(ctx, keys, bound, historyBound, sweepChunk)
		total += removed
		if err != nil {
			return total, fmt.Errorf("redis: sweep: %w", err)
		}
		if seen < sweepChunk {
			return total, nil
		}
	}
}

// sweepOnce runs sweepScript once.
func (s *Store) sweepOnce(ctx context.Context, keys []string, bound, historyBound string, budget int) (removed, seen int, err error) {
	res, err := s.run(ctx, sweepScript, keys, bound, budget, historyBound)
	if err != nil {
		return 0, 0, err
	}
	arr, ok := res.([]any)
	if !ok || len(arr) != 2 {
		return 0, 0, fmt.Errorf("script returned %v", res)
	}
	r, ok1 := arr[0].(int64)
	n, ok2 := arr[1].(int64)
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("script returned %v", res)
	}
	return int(r), int(n), nil
}
