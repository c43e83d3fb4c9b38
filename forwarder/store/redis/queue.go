package redis

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store"
)

// claimScript hands out the due jobs under new leases.
//
//	KEYS: jobs due
//	ARGV: upper bound of due, max, lease end, lease token base
//	returns the claimed records
var claimScript = goredis.NewScript(luaBatch + `
local ms = redis.call('ZRANGEBYLEX', KEYS[2], '-', ARGV[1], 'LIMIT', 0, ARGV[2])
local ids = {}
for i, m in ipairs(ms) do ids[i] = string.sub(m, 17) end
local vs = hmget(KEYS[1], ids)
local recs = {}
for i, id in ipairs(ids) do
  if not vs[i] then return redis.error_reply('due job ' .. id .. ' has no record') end
  recs[i] = cjson.decode(vs[i])
end
local out, due, sets = {}, {}, {}
for i, id in ipairs(ids) do
  local r = recs[i]
  r.lease = ARGV[4] .. '-' .. i
  r.due = ARGV[3]
  local v = cjson.encode(r)
  due[2 * i - 1], due[2 * i] = '0', r.due .. id
  sets[2 * i - 1], sets[2 * i] = id, v
  out[i] = v
end
callMany('ZREM', KEYS[2], ms)
callMany('ZADD', KEYS[2], due)
callMany('HSET', KEYS[1], sets)
return out
`)

// Claim hands out up to max jobs due now, oldest due first, each under a
// fresh lease: the job's Lease is a new random token and its DueAt the end
// of the lease, so a job that is never settled becomes due again by
// itself, to any Store on the same Redis. Attempts is unchanged. max <= 0
// claims nothing.
func (s *Store) Claim(ctx context.Context, max int) ([]store.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: claim: %w", err)
	}
	if max <= 0 {
		return nil, nil
	}
	now := s.opts.Now()
	res, err := s.run(ctx, claimScript, []string{s.keys.jobs, s.keys.due},
		upTo(now), max, encodeTime(now.Add(s.opts.Lease)), rand.Text())
	if err != nil {
		return nil, fmt.Errorf("redis: claim: %w", err)
	}
	vs, err := stringsOf(res)
	if err != nil {
		return nil, fmt.Errorf("redis: claim: %w", err)
	}
	jobs := make([]store.Job, 0, len(vs))
	for _, v := range vs {
		_, j, err := decodeRecord(v)
		if err != nil {
			return nil, fmt.Errorf("redis: claim: %w", err)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// settleScript ends a claim after checking its lease, and moves the job
// on: due again (retry) or dead (bury). Acks go through ackScript.
//
// The job's counts in the tallies move to its new state, under the
// outcome given.
//
//	KEYS: jobs due done dead tallies
//	ARGV: id lease op now history verdict outcome [retry: at reason | bury:
//	      reason code]
//	returns 1, or 0 when the lease is lost
var settleScript = goredis.NewScript(luaOutcome + luaTally + `
local id, op, now = ARGV[1], ARGV[3], ARGV[4]
if op ~= 'retry' and op ~= 'bury' then
  return redis.error_reply('unknown settlement ' .. op)
end
local v = redis.call('HGET', KEYS[1], id)
if not v then return 0 end
local r = cjson.decode(v)
if r.state ~= 'pending' or not r.lease or r.lease == '' or r.lease ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], r.due .. id)
untally(KEYS[5], r)
r.lease = nil
r.attempts = (r.attempts or 0) + 1
outcome(r, ARGV[5], ARGV[6])
if op == 'retry' then
  r.due, r.last_error = ARGV[8], ARGV[9]
  redis.call('ZADD', KEYS[2], 0, r.due .. id)
else
  r.state, r.settled, r.reason, r.code, r.last_error = 'dead', now, ARGV[8], ARGV[9], ARGV[8]
  redis.call('ZADD', KEYS[4], 0, now .. id)
end
tally(KEYS[5], r, ARGV[7])
flushTallies()
redis.call('HSET', KEYS[1], id, cjson.encode(r))
return 1
`)

// luaOutcome is a Lua helper: outcome(r, history, verdict) stores in the
// record r what a settlement stores of its job, each an opaque JSON
// string ("" for none).
const luaOutcome = `
local function outcome(r, history, verdict)
  r.history, r.verdict = nil, nil
  if history ~= '' then r.history = history end
  if verdict ~= '' then r.verdict = verdict end
end
`

// ackScript ends the claims of jobs after checking each lease, and makes
// each job whose lease is current a done mark. With a poll, it records
// the poll with the items of the jobs it acknowledged (none: no poll),
// and each of those jobs remembers the request id.
//
// Each job's counts in the tallies move to done, under the outcome given.
//
// A done job keeps only what is still read of its delivery, the done
// delivery given (store.DoneDelivery); one in the poll keeps its payload
// and the done delivery aside (done_delivery) until the poll is resolved.
//
//	KEYS: jobs due done polls polls:due polls:sent tallies
//	ARGV: now, request id and poll record without items ("" "" for no
//	      poll), then id lease history verdict item outcome done-delivery
//	      for each job (item: its PollItem JSON, "" when the job is not in
//	      the poll)
//	returns per job 1, or 0 when its lease is lost
var ackScript = goredis.NewScript(luaOutcome + luaBatch + luaTally + `
local now, req = ARGV[1], ARGV[2]
local out, items = {}, {}
local ids, acked, undue, done, sets = {}, {}, {}, {}, {}
for i = 4, #ARGV, 7 do ids[#ids + 1] = ARGV[i] end
local vs = hmget(KEYS[1], ids)
for n, id in ipairs(ids) do
  local i, v, ok = 4 + 7 * (n - 1), vs[n], 0
  local lease = ARGV[i + 1]
  -- A job given twice is acknowledged once: the second finds it done.
  if v and not acked[id] then
    local r = cjson.decode(v)
    if r.state == 'pending' and r.lease and r.lease ~= '' and r.lease == lease then
      acked[id] = true
      undue[#undue + 1] = r.due .. id
      untally(KEYS[7], r)
      r.lease, r.request, r.done_delivery = nil, nil, nil
      r.attempts = (r.attempts or 0) + 1
      r.state, r.settled = 'done', now
      outcome(r, ARGV[i + 2], ARGV[i + 3])
      if ARGV[i + 4] ~= '' then
        r.request, r.done_delivery = req, ARGV[i + 6]
        items[#items + 1] = ARGV[i + 4]
      else
        r.delivery = ARGV[i + 6]
      end
      done[#done + 1] = '0'
      done[#done + 1] = now .. id
      tally(KEYS[7], r, ARGV[i + 5])
      sets[#sets + 1] = id
      sets[#sets + 1] = cjson.encode(r)
      ok = 1
    end
  end
  out[#out + 1] = ok
end
callMany('ZREM', KEYS[2], undue)
callMany('ZADD', KEYS[3], done)
callMany('HSET', KEYS[1], sets)
if #items > 0 then
  local old = redis.call('HGET', KEYS[4], req)
  if old then
    local o = cjson.decode(old)
    redis.call('ZREM', KEYS[5], o.due .. req)
    redis.call('ZREM', KEYS[6], o.sent .. req)
  end
  local p = cjson.decode(ARGV[3])
  p.items = '[' .. table.concat(items, ',') .. ']'
  redis.call('HSET', KEYS[4], req, cjson.encode(p))
  redis.call('ZADD', KEYS[5], 0, p.due .. req)
  redis.call('ZADD', KEYS[6], 0, p.sent .. req)
end
flushTallies()
return out
`)

// maxAckScript bounds the jobs of one ackScript run, so that a large
// batch does not hold the server for long.
const maxAckScript = 500

// Ack records that j was delivered: the job becomes a done mark, kept for
// the dedup window so that re-planning its call cannot send it again.
// Attempts counts the successful send too. It returns store.ErrLeaseLost
// when j.Lease is not the job's current lease.
func (s *Store) Ack(ctx context.Context, j store.Job) error {
	return s.AckMany(ctx, []store.Job{j})[0]
}

// AckMany acknowledges jobs as Ack does, up to 500 in one script run
// (atomic), and returns one error per job, index-aligned: nil, an error
// wrapping store.ErrLeaseLost for a job whose lease was lost (the others
// are acknowledged all the same), or the failure of the script run that
// had the job, which then recorded none of its jobs.
func (s *Store) AckMany(ctx context.Context, jobs []store.Job) []error {
	errs := make([]error, len(jobs))
	for lo := 0; lo < len(jobs); lo += maxAckScript {
		chunk := jobs[lo:min(lo+maxAckScript, len(jobs))]
		s.ackChunk(ctx, chunk, errs[lo:lo+len(chunk)], nil)
	}
	return errs
}

// ackChunk runs ackScript on jobs, setting errs (index-aligned), with the
// poll p when it is not nil.
func (s *Store) ackChunk(ctx context.Context, jobs []store.Job, errs []error, p *store.Poll) {
	fail := func(err error) {
		for i, j := range jobs {
			errs[i] = fmt.Errorf("redis: ack %s: %w", j.Delivery.ID, err)
		}
	}
	if err := ctx.Err(); err != nil {
		fail(err)
		return
	}
	req, poll, items, err := pollArgs(p)
	if err != nil {
		fail(err)
		return
	}
	args := make([]any, 0, 3+7*len(jobs))
	args = append(args, encodeTime(s.opts.Now()), req, poll)
	for _, j := range jobs {
		history, verdict, err := outcomeOf(j)
		if err != nil {
			fail(err)
			return
		}
		done, err := store.EncodeDoneDelivery(j.Delivery)
		if err != nil {
			fail(err)
			return
		}
		args = append(args, j.Delivery.ID, j.Lease, history, verdict, items[j.Delivery.ID], tallyOutcome(j, store.JobDone), string(done))
	}
	k := s.keys
	res, err := s.run(ctx, ackScript, []string{k.jobs, k.due, k.done, k.polls, k.pollsDue, k.pollsSent, k.tallies}, args...)
	if err != nil {
		fail(err)
		return
	}
	if err := leaseResults("ack", jobs, res, errs); err != nil {
		fail(err)
	}
}

// Retry schedules j again at at, keeping reason as its LastError. It
// returns store.ErrLeaseLost when j.Lease is not the job's current lease.
func (s *Store) Retry(ctx context.Context, j store.Job, at time.Time, reason string) error {
	return s.settle(ctx, "retry", j, store.JobPending, encodeTime(at), reason)
}

// Bury dead-letters j with reason (also kept as its LastError) and code.
// It returns store.ErrLeaseLost when j.Lease is not the job's current
// lease.
func (s *Store) Bury(ctx context.Context, j store.Job, reason, code string) error {
	return s.settle(ctx, "bury", j, store.JobDead, reason, code)
}

// settle runs settleScript for op on j, which leaves it in state, with
// the op's extra arguments.
func (s *Store) settle(ctx context.Context, op string, j store.Job, state store.JobState, extra ...any) error {
	id := j.Delivery.ID
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: %s %s: %w", op, id, err)
	}
	history, verdict, err := outcomeOf(j)
	if err != nil {
		return fmt.Errorf("redis: %s %s: %w", op, id, err)
	}
	k := s.keys
	args := append([]any{id, j.Lease, op, encodeTime(s.opts.Now()), history, verdict, tallyOutcome(j, state)}, extra...)
	res, err := s.run(ctx, settleScript, []string{k.jobs, k.due, k.done, k.dead, k.tallies}, args...)
	if err != nil {
		return fmt.Errorf("redis: %s %s: %w", op, id, err)
	}
	switch res {
	case int64(1):
		return nil
	case int64(0):
		return fmt.Errorf("redis: %s %s: %w", op, id, store.ErrLeaseLost)
	}
	return fmt.Errorf("redis: %s %s: script returned %v", op, id, res)
}

// leaseResults reads a script's answer of one result per job (1: done, 0:
// the job's lease was lost) into errs, each named by op. It returns an
// error when the answer is not one result per job.
func leaseResults(op string, jobs []store.Job, res any, errs []error) error {
	arr, ok := res.([]any)
	if !ok || len(arr) != len(jobs) {
		return fmt.Errorf("script returned %v, want %d results", res, len(jobs))
	}
	for i, j := range jobs {
		switch arr[i] {
		case int64(1):
		case int64(0):
			errs[i] = fmt.Errorf("redis: %s %s: %w", op, j.Delivery.ID, store.ErrLeaseLost)
		default:
			errs[i] = fmt.Errorf("redis: %s %s: script returned %v", op, j.Delivery.ID, arr[i])
		}
	}
	return nil
}
