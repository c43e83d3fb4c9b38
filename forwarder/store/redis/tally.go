package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store"
)

// The tallies (store.Tallies) are two hashes the write scripts change in
// the same run as the records:
//
//	{p}:tallies      key (store.TallyKeys) → count (a key at zero is deleted)
//	{p}:tally:hours  unix hour (decimal) → calls last accepted in it
//	{p}:tally:mark   hash: "hours" and "jobs" once a store written before
//	                 the tallies has been counted (countLegacy)
//
// A job record counts once it carries "tally" (the outcome it counts
// under, "-" for none) and "dest" (its destination): a script that
// changes a counted record takes its old counts off and adds the new
// ones; a record written by an earlier release carries neither and is
// counted, without taking anything off, by the first script that changes
// it or by countLegacy, whichever comes first. So the count of a record is
// never taken twice, even with several instances counting at once.
//
// The outcome a done or dead job counts under is store.TallyOutcome, which
// reads the delivery; the scripts are given it (an argument per job) and
// never judge one themselves. Pending and dropped jobs count under none.

// luaTally is the Lua helpers of the tallies: tally(t, r, o) counts the
// record r (its state as it will be written) under outcome o ("" or nil
// for none) in the hash t and marks it counted; untally(t, r) takes off
// the counts of r as it was read, if it was counted; flushTallies()
// writes what tally and untally counted, one HINCRBY per key changed
// (a key back at zero is deleted), and must run before the script
// returns from a path that counted anything; hourOf(at) is the unix
// hour, as a decimal string, of an encodeTime string (nil before 1970);
// countHour(h, at, n) adds n to the hour of at in the hash h (a negative
// n only to an hour it holds: pruned hours stay gone).
//
// tally and untally only add up in the script's memory: a run that moves
// 500 jobs from pending to done under one destination and outcome writes
// three counts, not 1,500. The counts that cancel out (a job taken off
// and put back under the same key) write nothing. All the counts of one
// script run are in the same hash t.
//
// hourOf is exact with Lua's doubles: the nanoseconds (hi·2^32 + lo) are
// divided by 2^12 first, which leaves under 2^52, then by 878906250
// (3.6e12 = 2^12 · 878906250) with math.fmod, which is exact.
const luaTally = `
local function tallyKeys(r)
  local keys = {'state\31' .. r.state .. '\31' .. r.dest}
  if r.tally and r.tally ~= '-' then keys[2] = 'outcome\31' .. r.tally .. '\31' .. r.dest end
  if r.state == 'dead' then
    local kind = r.kind
    if not kind or kind == '' then kind = 'send' end
    keys[#keys + 1] = 'dead\31' .. kind .. '\31' .. (r.code or '') .. '\31' .. (r.reason or '')
  end
  return keys
end
local tallyHash, tallyDelta, tallyOrder = nil, {}, {}
local function tallyAdd(t, r, n)
  tallyHash = t
  for _, k in ipairs(tallyKeys(r)) do
    local d = tallyDelta[k]
    if d then
      tallyDelta[k] = d + n
    else
      tallyDelta[k] = n
      tallyOrder[#tallyOrder + 1] = k
    end
  end
end
local function flushTallies()
  for _, k in ipairs(tallyOrder) do
    local n = tallyDelta[k]
    if n ~= 0 and redis.call('HINCRBY', tallyHash, k, n) == 0 then redis.call('HDEL', tallyHash, k) end
  end
  tallyDelta, tallyOrder = {}, {}
end
local function untally(t, r)
  if r.tally then tallyAdd(t, r, -1) end
end
local function tally(t, r, o)
  if not r.dest then r.dest = cjson.decode(r.delivery).destination or '' end
  if not o or o == '' then o = '-' end
  r.tally = o
  tallyAdd(t, r, 1)
end
local function hourOf(at)
  local hi = tonumber(string.sub(at, 1, 8), 16) - 2147483648
  if hi < 0 then return nil end
  local lo = tonumber(string.sub(at, 9, 16), 16)
  local m = hi * 1048576 + math.floor(lo / 4096)
  return string.format('%d', (m - math.fmod(m, 878906250)) / 878906250)
end
local function countHour(h, at, n)
  local hour = hourOf(at)
  if not hour then return end
  if n < 0 and redis.call('HEXISTS', h, hour) == 0 then return end
  if redis.call('HINCRBY', h, hour, n) == 0 then redis.call('HDEL', h, hour) end
end
`

// noOutcome is how a record says it counts under no outcome.
const noOutcome = "-"

// tallyOutcome is the outcome argument a script gets for a job whose
// state will be state: store.TallyOutcome of it.
func tallyOutcome(j store.Job, state store.JobState) string {
	return string(store.TallyOutcome(store.JobInfo{Job: j, State: state}))
}

// unixHour is the field of the hour of t in the hours hash.
func unixHour(t time.Time) string { return strconv.FormatInt(t.Unix()/3600, 10) }

// Tallies returns the counts the store keeps (see store.Tallies): two
// small hashes read in one MULTI, whatever the number of calls.
func (s *Store) Tallies(ctx context.Context) (store.Tallies, error) {
	if err := ctx.Err(); err != nil {
		return store.Tallies{}, fmt.Errorf("redis: tallies: %w", err)
	}
	var counts, hours *goredis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		counts = p.HGetAll(ctx, s.keys.tallies)
		hours = p.HGetAll(ctx, s.keys.tallyHours)
		return nil
	})
	if err != nil {
		return store.Tallies{}, fmt.Errorf("redis: tallies: %w", err)
	}
	c := map[string]int64{}
	for k, v := range counts.Val() {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return store.Tallies{}, fmt.Errorf("redis: tallies: bad count %q under %q", v, k)
		}
		c[k] = n
	}
	h := map[time.Time]int64{}
	for k, v := range hours.Val() {
		hour, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return store.Tallies{}, fmt.Errorf("redis: tallies: bad hour %q", k)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return store.Tallies{}, fmt.Errorf("redis: tallies: bad count %q of hour %q", v, k)
		}
		h[time.Unix(hour*3600, 0).UTC()] = n
	}
	t, err := store.BuildTallies(c, h, s.opts.Now())
	if err != nil {
		return store.Tallies{}, fmt.Errorf("redis: %w", err)
	}
	return t, nil
}

// pruneHoursScript deletes the hours before a unix hour.
//
//	KEYS: tally:hours
//	ARGV: the first unix hour kept
var pruneHoursScript = goredis.NewScript(`
local from = tonumber(ARGV[1])
for _, h in ipairs(redis.call('HKEYS', KEYS[1])) do
  if tonumber(h) < from then redis.call('HDEL', KEYS[1], h) end
end
return 1
`)

// hoursScript counts the calls of the hours kept from the accepted index
// and marks the hours counted, unless they are already.
//
//	KEYS: tally:hours tally:mark accepted
//	ARGV: hour, first member of the hour, first member past it, for each
//	      hour kept
var hoursScript = goredis.NewScript(`
if redis.call('HEXISTS', KEYS[2], 'hours') == 1 then return 0 end
redis.call('DEL', KEYS[1])
for i = 1, #ARGV, 3 do
  local n = redis.call('ZLEXCOUNT', KEYS[3], '[' .. ARGV[i + 1], '(' .. ARGV[i + 2])
  if n > 0 then redis.call('HSET', KEYS[1], ARGV[i], n) end
end
redis.call('HSET', KEYS[2], 'hours', '1')
return 1
`)

// countScript counts job records written by an earlier release: each one
// still as read (its value unchanged) and not counted yet.
//
//	KEYS: jobs tallies
//	ARGV: id value outcome for each job
//	returns the ids whose value had changed
var countScript = goredis.NewScript(luaTally + `
local changed = {}
for i = 1, #ARGV, 3 do
  local id = ARGV[i]
  local v = redis.call('HGET', KEYS[1], id)
  if v == ARGV[i + 1] then
    local r = cjson.decode(v)
    if not r.tally then
      tally(KEYS[2], r, ARGV[i + 2])
      redis.call('HSET', KEYS[1], id, cjson.encode(r))
    end
  elseif v then
    changed[#changed + 1] = id
  end
end
flushTallies()
return changed
`)

// countChunk is how many records one countScript run counts.
const countChunk = 500

// countLegacy counts the tallies of a store written before them, once:
// the hours from the accepted index, the jobs record by record (see the
// comment at the top). Several instances may run it at once.
func (s *Store) countLegacy(ctx context.Context) error {
	k := s.keys
	marks, err := s.rdb.HGetAll(ctx, k.tallyMark).Result()
	if err != nil {
		return fmt.Errorf("tallies: %w", err)
	}
	if marks["hours"] == "" {
		now := s.opts.Now()
		var args []any
		for h := store.TallyFrom(now); !h.After(now); h = h.Add(time.Hour) {
			args = append(args, unixHour(h), encodeTime(h), encodeTime(h.Add(time.Hour)))
		}
		if _, err := s.run(ctx, hoursScript, []string{k.tallyHours, k.tallyMark, k.accepted}, args...); err != nil {
			return fmt.Errorf("tallies: count hours: %w", err)
		}
	}
	if marks["jobs"] != "" {
		return nil
	}
	var cursor uint64
	for {
		kv, next, err := s.rdb.HScan(ctx, k.jobs, cursor, "", countChunk).Result()
		if err != nil {
			return fmt.Errorf("tallies: count jobs: %w", err)
		}
		pending := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			pending[kv[i]] = kv[i+1]
		}
		// A record that changed under the count is read again: a few
		// rounds, after which it was counted by the write that changed it
		// or is being rewritten by an earlier release still running.
		for round := 0; len(pending) > 0 && round < 5; round++ {
			changed, err := s.countRecords(ctx, pending)
			if err != nil {
				return err
			}
			pending = map[string]string{}
			if len(changed) > 0 {
				vs, err := s.rdb.HMGet(ctx, k.jobs, changed...).Result()
				if err != nil {
					return fmt.Errorf("tallies: count jobs: %w", err)
				}
				for i, v := range vs {
					if v, ok := v.(string); ok {
						pending[changed[i]] = v
					}
				}
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if err := s.rdb.HSet(ctx, k.tallyMark, "jobs", "1").Err(); err != nil {
		return fmt.Errorf("tallies: %w", err)
	}
	return nil
}

// countRecords counts the records of values (id → value as read) not
// counted yet, and returns the ids whose value changed meanwhile.
func (s *Store) countRecords(ctx context.Context, values map[string]string) ([]string, error) {
	var args []any
	for id, v := range values {
		var head struct {
			Tally *string `json:"tally"`
		}
		if err := json.Unmarshal([]byte(v), &head); err != nil {
			return nil, fmt.Errorf("tallies: job %s: %w", id, err)
		}
		if head.Tally != nil {
			continue
		}
		rec, j, err := decodeRecord(v)
		if err != nil {
			return nil, fmt.Errorf("tallies: job %s: %w", id, err)
		}
		args = append(args, id, v, tallyOutcome(j, rec.State))
	}
	if len(args) == 0 {
		return nil, nil
	}
	res, err := s.run(ctx, countScript, []string{s.keys.jobs, s.keys.tallies}, args...)
	if err != nil {
		return nil, fmt.Errorf("tallies: count jobs: %w", err)
	}
	changed, err := stringsOf(res)
	if err != nil {
		return nil, fmt.Errorf("tallies: count jobs: %w", err)
	}
	return changed, nil
}
