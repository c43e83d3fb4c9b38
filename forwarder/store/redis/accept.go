package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// luaBatch is the Lua helpers that write or read many fields or members
// of one key in one command rather than one command each: callMany(cmd,
// key, args) runs cmd on key with args (fields, or field-value or
// score-member pairs), 1,000 at a time so as to stay within what Lua's
// unpack takes; hmget(key, fields) returns the values of fields (false
// for a missing one), index-aligned. A command per job was most of what
// a script with many jobs cost the server, in calls from Lua and in
// commands propagated to the append-only file.
const luaBatch = `
local function callMany(cmd, key, args)
  for i = 1, #args, 1000 do
    redis.call(cmd, key, unpack(args, i, math.min(i + 999, #args)))
  end
end
local function hmget(key, fields)
  local out = {}
  for i = 1, #fields, 1000 do
    local vs = redis.call('HMGET', key, unpack(fields, i, math.min(i + 999, #fields)))
    for j = 1, #vs do out[i + j - 1] = vs[j] end
  end
  return out
end
`

// luaOlder is a Lua helper: older(a, b) reports whether time a is before
// time b, both encodeTime strings. It compares numbers, not strings: Lua
// compares strings with strcoll, which follows the server's locale.
const luaOlder = `
local function older(a, b)
  local ha, hb = tonumber(string.sub(a, 1, 8), 16), tonumber(string.sub(b, 1, 8), 16)
  if ha ~= hb then return ha < hb end
  return tonumber(string.sub(a, 9, 16), 16) < tonumber(string.sub(b, 9, 16), 16)
end
`

// acceptScript writes a call, its dedup mark and its jobs, or nothing.
// It reads and decides everything before its first write: Redis does not
// roll a script back, so a failure half-way must not be possible.
//
// The dedup hash holds, under each Sid, the Sid's latest acceptance (16
// hex digits; its entry in the accepted index is at that time) followed by
// the JSON object of its marks, event → accepted-at: dedup is by event and
// Sid. A value of the 16 digits alone was written before dedup was keyed
// by event; it stands for the event of the call stored with it, which is
// the event that wrote it (for every event when that call cannot be read).
// The stored call is the latest accepted, except that a Call.Complete in
// its window is not replaced by another event of its call.
//
// It keeps the tallies: the call moves to the hour of now, a job record it
// replaces is uncounted and each record it writes counted. The jobs it
// writes join the call's plan (plan.go).
//
//	KEYS: dedup calls accepted jobs plans due done callers callers:at dropped
//	      tallies tally:hours
//	ARGV: sid now cutoff call ttl-ms, the caller history members (callers,
//	      callers:at; both empty when the call has no caller key) and their
//	      ttl-ms, the event, then id record destination for each delivery
//	returns 1, or 0 for a duplicate
var acceptScript = goredis.NewScript(luaOlder + luaBatch + luaTally + luaPlan + `
local sid, now, cutoff, event = ARGV[1], ARGV[2], ARGV[3], ARGV[9]
local v = redis.call('HGET', KEYS[1], sid)
local at, marks = nil, {}
if v then
  at = string.sub(v, 1, 16)
  local old = {}
  if #v == 16 then
    local ok, c = pcall(cjson.decode, redis.call('HGET', KEYS[2], sid) or '')
    if ok and type(c) == 'table' and type(c.event) == 'string' and c.event ~= '' then
      old[c.event] = at
    else
      old['*'] = at
    end
  else
    old = cjson.decode(string.sub(v, 17))
  end
  for e, t in pairs(old) do
    if older(cutoff, t) then marks[e] = t end
  end
  if marks[event] or marks['*'] then return 0 end
end
local replaceCall = event == 'Call.Complete' or not marks['Call.Complete']
marks[event] = now

local write, expired, ids = {}, {}, {}
for i = 10, #ARGV, 3 do ids[#ids + 1] = ARGV[i] end
local olds = hmget(KEYS[4], ids)
for n, id in ipairs(ids) do
  local i, old = 7 + 3 * n, olds[n]
  if not old then
    write[#write + 1] = i
  else
    local r = cjson.decode(old)
    local index = ({done = KEYS[7], dropped = KEYS[10]})[r.state]
    if index and not older(cutoff, r.settled) then
      write[#write + 1] = i
      expired[#expired + 1] = {index, r.settled .. id, r}
    end
  end
end

if at then redis.call('ZREM', KEYS[3], at .. sid) end
redis.call('HSET', KEYS[1], sid, now .. cjson.encode(marks))
if replaceCall then redis.call('HSET', KEYS[2], sid, ARGV[4]) end
redis.call('ZADD', KEYS[3], 0, now .. sid)
local hour = hourOf(now)
if at and hour and hourOf(at) == hour then
  -- The call stays in its hour: -1 and +1, unless the hour was pruned.
  if redis.call('HEXISTS', KEYS[12], hour) == 0 then redis.call('HINCRBY', KEYS[12], hour, 1) end
else
  if at then countHour(KEYS[12], at, -1) end
  countHour(KEYS[12], now, 1)
end
for _, e in ipairs(expired) do
  redis.call('ZREM', e[1], e[2])
  untally(KEYS[11], e[3])
end
local recs, written, due = {}, {}, {}
for n, i in ipairs(write) do
  local id = ARGV[i]
  recs[2 * n - 1], recs[2 * n] = id, ARGV[i + 1]
  written[n] = id
  due[2 * n - 1], due[2 * n] = '0', now .. id
  tally(KEYS[11], {state = 'pending', dest = ARGV[i + 2]}, '')
end
callMany('HSET', KEYS[4], recs)
addPlan(KEYS[5], sid, written)
callMany('ZADD', KEYS[6], due)
flushTallies()
for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], ARGV[5]) end
if ARGV[6] ~= '' then
  redis.call('ZADD', KEYS[8], 0, ARGV[6])
  redis.call('ZADD', KEYS[9], 0, ARGV[7])
  redis.call('PEXPIRE', KEYS[8], ARGV[8])
  redis.call('PEXPIRE', KEYS[9], ARGV[8])
end
return 1
`)

// Accept stores call and one pending job per delivery (due now, no
// attempts yet) together with the dedup mark of call.Event and call.Sid,
// in one script, so atomically. It returns store.ErrDuplicate, writing
// nothing, when the same event of call.Sid was accepted less than the
// dedup window ago; the events of one call (Call.Initiate, Call.Complete)
// are each accepted once (see acceptScript). Durability is the server's
// (see the package comment).
//
// An event accepted again after its window is new: its dedup mark and
// call are replaced. A job of the same ID that still exists is kept as it
// is when it is pending or dead, or when it is a done mark or a tombstone
// (store.JobDropped) younger than the window; only an expired one is
// replaced by a new pending job.
//
// When call.History carries a caller key, the call's time is recorded in
// the caller's history by the same script (see PreviousCall).
//
// Every delivery must belong to call: Delivery.CallSid equal to call.Sid
// and Delivery.ID under call.Sid (see forwarder.DeliveryID).
func (s *Store) Accept(ctx context.Context, call *forwarder.Call, deliveries []forwarder.Delivery) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: accept: %w", err)
	}
	if call == nil || call.Sid == "" {
		return errors.New("redis: accept: call has no Sid")
	}
	now := s.opts.Now()
	nowKey := encodeTime(now)
	// The call and every job record are encoded into one buffer, each
	// argument a slice of it; each delivery is encoded into scratch
	// before it is escaped into its record.
	buf, err := store.AppendCall(make([]byte, 0, callSize+newRecordSize*len(deliveries)), call)
	if err != nil {
		return fmt.Errorf("redis: accept %s: %w", call.Sid, err)
	}
	callJSON := buf[:len(buf):len(buf)]
	buf = buf[len(buf):]
	var scratch []byte
	callerKey, callerAt, record, err := store.CallerToRecord(call, now)
	if err != nil {
		return fmt.Errorf("redis: accept %s: %w", call.Sid, err)
	}
	var caller, callerIndex string
	if record {
		caller, callerIndex = callerMember(callerKey, callerAt), encodeTime(callerAt)+callerKey
	}
	args := make([]any, 0, 9+3*len(deliveries))
	args = append(args, call.Sid, nowKey, encodeTime(now.Add(-s.opts.DedupWindow)), callJSON, ms(s.ttl),
		caller, callerIndex, ms(s.historyTTL), string(call.Event))
	for _, d := range deliveries {
		if d.CallSid != call.Sid || !strings.HasPrefix(d.ID, call.Sid+"/") {
			return fmt.Errorf("redis: accept %s: delivery %q belongs to call %q", call.Sid, d.ID, d.CallSid)
		}
		start := len(buf)
		buf, scratch, err = appendNewRecord(buf, scratch, &d, nowKey)
		if err != nil {
			return fmt.Errorf("redis: accept %s: %w", call.Sid, err)
		}
		args = append(args, d.ID, buf[start:len(buf):len(buf)], d.Destination)
	}
	k := s.keys
	res, err := s.intake.run(ctx, acceptScript, []string{k.dedup, k.calls, k.accepted, k.jobs, k.plans, k.due, k.done, k.callers, k.callersAt, k.dropped, k.tallies, k.tallyHours}, args...)
	if err != nil {
		return fmt.Errorf("redis: accept %s: %w", call.Sid, err)
	}
	switch res {
	case int64(1):
		return nil
	case int64(0):
		return fmt.Errorf("redis: accept %s: %w", call.Sid, store.ErrDuplicate)
	}
	return fmt.Errorf("redis: accept %s: script returned %v", call.Sid, res)
}
