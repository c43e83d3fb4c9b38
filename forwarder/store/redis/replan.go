package redis

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// replanScript adds to a stored call the jobs it does not have yet. It
// reads and decides everything before its first write, and never touches
// a job that exists, in whatever state, except a tombstone when asked to
// include dropped deliveries.
//
// A tombstone it replaces is uncounted in the tallies, each record it
// writes counted. The jobs it writes join the call's plan (plan.go).
//
//	KEYS: calls jobs plans due dropped tallies
//	ARGV: sid now include-dropped ("1" or ""), then id record destination
//	      for each delivery
//	returns the number of jobs added, or -1 when the call is not stored
var replanScript = goredis.NewScript(luaTally + luaPlan + `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
local now, includeDropped = ARGV[2], ARGV[3] == '1'
local write, seen, tombstones = {}, {}, {}
for i = 4, #ARGV, 3 do
  local id = ARGV[i]
  if not seen[id] then
    seen[id] = true
    local old = redis.call('HGET', KEYS[2], id)
    if not old then
      write[#write + 1] = i
    elseif includeDropped then
      local r = cjson.decode(old)
      if r.state == 'dropped' then
        write[#write + 1] = i
        tombstones[#tombstones + 1] = {r.settled .. id, r}
      end
    end
  end
end
for _, t in ipairs(tombstones) do
  redis.call('ZREM', KEYS[5], t[1])
  untally(KEYS[6], t[2])
end
local written = {}
for _, i in ipairs(write) do
  local id = ARGV[i]
  redis.call('HSET', KEYS[2], id, ARGV[i + 1])
  redis.call('ZADD', KEYS[4], 0, now .. id)
  tally(KEYS[6], {state = 'pending', dest = ARGV[i + 2]}, '')
  written[#written + 1] = id
end
addPlan(KEYS[3], ARGV[1], written)
flushTallies()
return #write
`)

// Replan adds to the stored call sid the deliveries it does not have yet
// (by delivery ID), as pending jobs due now, and returns how many it
// added, all in one script, so atomically. Deliveries that exist in any
// state (pending, claimed, done, dead, dropped) are left alone, so
// re-planning a call under fixed rules never re-sends what was delivered
// nor what an operator dropped; with opts.IncludeDropped a dropped one is
// replaced by a new pending job. A delivery listed twice is added once. It returns store.ErrNotFound when the call
// is not stored (never accepted, swept, or its key expired).
//
// Every delivery must belong to the call: Delivery.CallSid equal to sid
// and Delivery.ID under sid (see forwarder.DeliveryID).
func (s *Store) Replan(ctx context.Context, sid string, deliveries []forwarder.Delivery, opts store.ReplanOptions) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("redis: replan %s: %w", sid, err)
	}
	nowKey := encodeTime(s.opts.Now())
	include := ""
	if opts.IncludeDropped {
		include = "1"
	}
	args := make([]any, 0, 3+3*len(deliveries))
	args = append(args, sid, nowKey, include)
	var buf, scratch []byte
	for _, d := range deliveries {
		if d.CallSid != sid || !strings.HasPrefix(d.ID, sid+"/") {
			return 0, fmt.Errorf("redis: replan %s: delivery %q belongs to call %q", sid, d.ID, d.CallSid)
		}
		start := len(buf)
		var err error
		buf, scratch, err = appendNewRecord(buf, scratch, &d, nowKey)
		if err != nil {
			return 0, fmt.Errorf("redis: replan %s: %w", sid, err)
		}
		args = append(args, d.ID, buf[start:len(buf):len(buf)], d.Destination)
	}
	k := s.keys
	res, err := s.run(ctx, replanScript, []string{k.calls, k.jobs, k.plans, k.due, k.dropped, k.tallies}, args...)
	if err != nil {
		return 0, fmt.Errorf("redis: replan %s: %w", sid, err)
	}
	n, ok := res.(int64)
	switch {
	case !ok:
		return 0, fmt.Errorf("redis: replan %s: script returned %T, want an integer", sid, res)
	case n == -1:
		return 0, fmt.Errorf("redis: replan %s: %w", sid, store.ErrNotFound)
	case n < 0:
		return 0, fmt.Errorf("redis: replan %s: script returned %d", sid, n)
	}
	return int(n), nil
}

// The range of times encodeTime can represent: unix nanoseconds in an
// int64, from 1677 to 2262.
var (
	firstTime = time.Unix(0, math.MinInt64)
	lastTime  = time.Unix(0, math.MaxInt64)
)

// CallSids returns the Sids of the calls accepted at or after since, oldest
// first, at most limit (all when limit <= 0). A Sid accepted again after
// its window is listed once, at its latest acceptance; swept calls are
// not listed. It reads the accepted index with one command, so the list
// is a consistent view.
func (s *Store) CallSids(ctx context.Context, since time.Time, limit int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: call sids: %w", err)
	}
	// Times outside the encodable range (the zero time among them) would
	// wrap around in encodeTime.
	lo := "-"
	switch {
	case since.After(lastTime):
		return nil, nil
	case !since.Before(firstTime):
		lo = "[" + encodeTime(since)
	}
	by := &goredis.ZRangeBy{Min: lo, Max: "+"}
	if limit > 0 {
		by.Count = int64(limit)
	}
	ms, err := s.rdb.ZRangeByLex(ctx, s.keys.accepted, by).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: call sids: %w", err)
	}
	var out []string
	for _, m := range ms {
		if len(m) <= timeLen {
			return nil, fmt.Errorf("redis: call sids: bad index entry %q", m)
		}
		out = append(out, m[timeLen:])
	}
	return out, nil
}
