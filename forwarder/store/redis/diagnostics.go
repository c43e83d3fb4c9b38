package redis

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// pollRecord is the value of a poll in the polls hash. Like a job record
// it holds only strings and small integers, so that the scripts can read
// and rewrite it with cjson: the items stay an opaque JSON string, times
// are encodeTime strings. Its due and lease fields are a job record's, so
// claimScript claims polls as it claims jobs.
type pollRecord struct {
	RequestID  string `json:"request_id"`
	Items      string `json:"items,omitempty"`
	Sent       string `json:"sent"`
	Due        string `json:"due"`
	Polls      int    `json:"polls"`
	LastPoll   string `json:"last_poll,omitempty"`
	LastAnswer string `json:"last_answer,omitempty"`
	Lease      string `json:"lease,omitempty"`
}

// pollArgs returns what ackScript needs to record p: its request id, its
// record without items, and each item's JSON by delivery ID; all empty
// when p is nil or has no request id.
func pollArgs(p *store.Poll) (req, poll string, items map[string]string, err error) {
	if p == nil || p.RequestID == "" {
		return "", "", nil, nil
	}
	rec := pollRecord{RequestID: p.RequestID, Sent: encodeTime(p.SentAt), Due: encodeTime(p.DueAt), Polls: p.Polls, LastAnswer: p.LastAnswer}
	if !p.LastPoll.IsZero() {
		rec.LastPoll = encodeTime(p.LastPoll)
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return "", "", nil, fmt.Errorf("encode poll %s: %w", p.RequestID, err)
	}
	items = make(map[string]string, len(p.Items))
	for _, it := range p.Items {
		iv, err := json.Marshal(it)
		if err != nil {
			return "", "", nil, fmt.Errorf("encode poll %s: %w", p.RequestID, err)
		}
		items[it.DeliveryID] = string(iv)
	}
	return p.RequestID, string(v), items, nil
}

// decodePoll reads a stored poll record.
func decodePoll(v string) (store.Poll, error) {
	var rec pollRecord
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return store.Poll{}, fmt.Errorf("decode poll: %w", err)
	}
	p := store.Poll{RequestID: rec.RequestID, Polls: rec.Polls, LastAnswer: rec.LastAnswer, Lease: rec.Lease}
	if err := json.Unmarshal([]byte(rec.Items), &p.Items); err != nil {
		return store.Poll{}, fmt.Errorf("decode poll %s: items: %w", rec.RequestID, err)
	}
	var err error
	if p.SentAt, err = decodeTime(rec.Sent); err != nil {
		return store.Poll{}, fmt.Errorf("decode poll %s: sent: %w", rec.RequestID, err)
	}
	if p.DueAt, err = decodeTime(rec.Due); err != nil {
		return store.Poll{}, fmt.Errorf("decode poll %s: due: %w", rec.RequestID, err)
	}
	if rec.LastPoll != "" {
		if p.LastPoll, err = decodeTime(rec.LastPoll); err != nil {
			return store.Poll{}, fmt.Errorf("decode poll %s: last poll: %w", rec.RequestID, err)
		}
	}
	return p, nil
}

// AckPolled acknowledges jobs as AckMany does and, in the same script run
// (so atomically, whatever the number of jobs), records p with the items
// whose job it acknowledged (none: no poll), due at p.DueAt and
// unclaimed. Each acknowledged job of the poll remembers p.RequestID, so
// that ResolvePoll judges whether the job is still done by that request.
// A p without RequestID records no poll; a zero SentAt or DueAt stands
// for now. A poll of the same RequestID already pending is replaced.
func (s *Store) AckPolled(ctx context.Context, jobs []store.Job, p store.Poll) []error {
	errs := make([]error, len(jobs))
	if len(jobs) == 0 {
		return errs
	}
	now := s.opts.Now()
	if p.SentAt.IsZero() {
		p.SentAt = now
	}
	if p.DueAt.IsZero() {
		p.DueAt = now
	}
	s.ackChunk(ctx, jobs, errs, &p)
	return errs
}

// ClaimPolls hands out up to max polls due now, oldest due first, each
// under a fresh lease that ends after store.Options.Lease, in one script:
// its Lease is a new random token and its DueAt the end of the lease, so
// no two Stores on one Redis hold a poll at once, and a poll that is
// never rescheduled nor resolved becomes due again by itself. max <= 0
// claims nothing.
func (s *Store) ClaimPolls(ctx context.Context, max int) ([]store.Poll, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: claim polls: %w", err)
	}
	if max <= 0 {
		return nil, nil
	}
	now := s.opts.Now()
	res, err := s.run(ctx, claimScript, []string{s.keys.polls, s.keys.pollsDue},
		upTo(now), max, encodeTime(now.Add(s.opts.Lease)), rand.Text())
	if err != nil {
		return nil, fmt.Errorf("redis: claim polls: %w", err)
	}
	vs, err := stringsOf(res)
	if err != nil {
		return nil, fmt.Errorf("redis: claim polls: %w", err)
	}
	polls := make([]store.Poll, 0, len(vs))
	for _, v := range vs {
		p, err := decodePoll(v)
		if err != nil {
			return nil, fmt.Errorf("redis: claim polls: %w", err)
		}
		polls = append(polls, p)
	}
	return polls, nil
}

// pollScript ends the claim of a poll after checking its lease: makes it
// due again (reschedule) or records the verdicts on its jobs and forgets
// it (resolve).
//
// A job given a verdict moves in the tallies under the outcome given. A
// job that stays done takes its done delivery (done_delivery, set by
// ackScript) as its delivery, verdict or not; a rejected one keeps its
// payload, for RetryDead.
//
//	KEYS: polls polls:due polls:sent jobs done dead tallies
//	ARGV: request lease op now, then for reschedule: due polls last-poll
//	      last-answer; for resolve: id verdict outcome reason code
//	      tally-outcome for each item (verdict "" for none)
//	returns 1, or 0 when the lease is lost
var pollScript = goredis.NewScript(luaTally + `
local req, op, now = ARGV[1], ARGV[3], ARGV[4]
if op ~= 'reschedule' and op ~= 'resolve' then
  return redis.error_reply('unknown poll op ' .. op)
end
local v = redis.call('HGET', KEYS[1], req)
if not v then return 0 end
local p = cjson.decode(v)
if not p.lease or p.lease == '' or p.lease ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], p.due .. req)
if op == 'reschedule' then
  p.lease, p.due, p.polls, p.last_poll, p.last_answer = nil, ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
  if p.last_poll == '' then p.last_poll = nil end
  if p.last_answer == '' then p.last_answer = nil end
  redis.call('HSET', KEYS[1], req, cjson.encode(p))
  redis.call('ZADD', KEYS[2], 0, p.due .. req)
  return 1
end
for i = 5, #ARGV, 6 do
  local id = ARGV[i]
  local jv = redis.call('HGET', KEYS[4], id)
  if jv then
    local r = cjson.decode(jv)
    if r.state == 'done' and r.request == req then
      local rejected = ARGV[i + 2] == 'rejected'
      if r.done_delivery and not rejected then r.delivery = r.done_delivery end
      r.done_delivery = nil
      if ARGV[i + 1] ~= '' then
        untally(KEYS[7], r)
        r.verdict = ARGV[i + 1]
        if rejected then
          redis.call('ZREM', KEYS[5], r.settled .. id)
          r.state, r.settled, r.kind = 'dead', now, 'processing'
          r.reason, r.code, r.last_error = ARGV[i + 3], ARGV[i + 4], ARGV[i + 3]
          redis.call('ZADD', KEYS[6], 0, now .. id)
        end
        tally(KEYS[7], r, ARGV[i + 5])
      end
      redis.call('HSET', KEYS[4], id, cjson.encode(r))
    end
  end
end
redis.call('HDEL', KEYS[1], req)
redis.call('ZREM', KEYS[3], p.sent .. req)
flushTallies()
return 1
`)

// ReschedulePoll stores p's Polls, LastPoll and LastAnswer and makes the
// poll due at due, unclaimed. It returns store.ErrLeaseLost when p.Lease
// is not the poll's current lease (also when the poll is resolved).
func (s *Store) ReschedulePoll(ctx context.Context, p store.Poll, due time.Time) error {
	last := ""
	if !p.LastPoll.IsZero() {
		last = encodeTime(p.LastPoll)
	}
	return s.updatePoll(ctx, "reschedule poll", "reschedule", p, encodeTime(due), p.Polls, last, p.LastAnswer)
}

// ResolvePoll records verdicts[i] on the job of p.Items[i] when that job
// is still done by the request polled (not re-planned nor accepted anew
// since); a rejected delivery becomes a dead letter of kind
// store.DeadProcessing at now, with reason store.ProcessingReason and
// Google's reason as code. A verdict without outcome records nothing.
// The poll is forgotten. All in one script. It returns
// store.ErrLeaseLost when p.Lease is not the poll's current lease;
// verdicts must be as many as p.Items.
func (s *Store) ResolvePoll(ctx context.Context, p store.Poll, verdicts []forwarder.Verdict) error {
	if len(verdicts) != len(p.Items) {
		return fmt.Errorf("redis: resolve poll %s: %d verdicts for %d items", p.RequestID, len(verdicts), len(p.Items))
	}
	args := make([]any, 0, 6*len(verdicts))
	for i, v := range verdicts {
		if v.Outcome == "" {
			// No verdict: the job only takes its done delivery.
			args = append(args, p.Items[i].DeliveryID, "", "", "", "", "")
			continue
		}
		vj, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("redis: resolve poll %s: encode verdict: %w", p.RequestID, err)
		}
		state := store.JobDone
		if v.Outcome == forwarder.OutcomeRejected {
			state = store.JobDead
		}
		args = append(args, p.Items[i].DeliveryID, string(vj), string(v.Outcome), store.ProcessingReason(v), v.Reason,
			tallyOutcome(store.Job{Verdict: &v}, state))
	}
	return s.updatePoll(ctx, "resolve poll", "resolve", p, args...)
}

// updatePoll runs pollScript for op on p with the op's extra arguments.
func (s *Store) updatePoll(ctx context.Context, name, op string, p store.Poll, extra ...any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: %s %s: %w", name, p.RequestID, err)
	}
	k := s.keys
	args := append([]any{p.RequestID, p.Lease, op, encodeTime(s.opts.Now())}, extra...)
	res, err := s.run(ctx, pollScript, []string{k.polls, k.pollsDue, k.pollsSent, k.jobs, k.done, k.dead, k.tallies}, args...)
	if err != nil {
		return fmt.Errorf("redis: %s %s: %w", name, p.RequestID, err)
	}
	switch res {
	case int64(1):
		return nil
	case int64(0):
		return fmt.Errorf("redis: %s %s: %w", name, p.RequestID, store.ErrLeaseLost)
	}
	return fmt.Errorf("redis: %s %s: script returned %v", name, p.RequestID, res)
}

// PollStats counts the pending polls (claimed ones included) and reads
// the oldest SentAt among them, in one MULTI.
func (s *Store) PollStats(ctx context.Context) (store.PollStats, error) {
	if err := ctx.Err(); err != nil {
		return store.PollStats{}, fmt.Errorf("redis: poll stats: %w", err)
	}
	var n *goredis.IntCmd
	var first *goredis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		n = p.HLen(ctx, s.keys.polls)
		first = p.ZRange(ctx, s.keys.pollsSent, 0, 0)
		return nil
	})
	if err != nil {
		return store.PollStats{}, fmt.Errorf("redis: poll stats: %w", err)
	}
	st := store.PollStats{Pending: int(n.Val())}
	if ms := first.Val(); len(ms) > 0 && len(ms[0]) >= timeLen {
		if st.OldestSentAt, err = decodeTime(ms[0][:timeLen]); err != nil {
			return store.PollStats{}, fmt.Errorf("redis: poll stats: %w", err)
		}
	}
	return st, nil
}
