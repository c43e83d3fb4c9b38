package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Call returns the call accepted under sid, or store.ErrNotFound (also
// once the call has been swept or its key has expired).
func (s *Store) Call(ctx context.Context, sid string) (*forwarder.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: call %s: %w", sid, err)
	}
	v, err := s.rdb.HGet(ctx, s.keys.calls, sid).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: call %s: %w", sid, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("redis: call %s: %w", sid, err)
	}
	var call forwarder.Call
	if err := json.Unmarshal(v, &call); err != nil {
		return nil, fmt.Errorf("redis: call %s: decode: %w", sid, err)
	}
	return &call, nil
}

// jobsScript reads the jobs of a call: those of its plan and those of
// the ids index whose IDs start with a prefix (plan.go).
//
//	KEYS: ids jobs plans
//	ARGV: first (inclusive) and last (exclusive) lex bounds, sid
//	returns the records
var jobsScript = goredis.NewScript(luaPlan + `
local ids, indexed = planned(KEYS[1], KEYS[3], ARGV[3], ARGV[1], ARGV[2])
local out = {}
for i, id in ipairs(ids) do
  local v = redis.call('HGET', KEYS[2], id)
  if v then
    out[#out + 1] = v
  elseif i <= indexed then
    return redis.error_reply('indexed job ' .. id .. ' has no record')
  end
end
return out
`)

// Jobs returns the jobs of the call sid with their states, ordered by
// delivery ID; none (and no error) when the call has none. Swept done
// marks and dropped dead letters are no longer listed.
func (s *Store) Jobs(ctx context.Context, sid string) ([]store.JobInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: jobs %s: %w", sid, err)
	}
	// Every ID under sid sorts from "sid/" up to, not including, "sid0"
	// ('0' follows '/').
	res, err := s.run(ctx, jobsScript, []string{s.keys.ids, s.keys.jobs, s.keys.plans}, "["+sid+"/", "("+sid+"0", sid)
	if err != nil {
		return nil, fmt.Errorf("redis: jobs %s: %w", sid, err)
	}
	vs, err := stringsOf(res)
	if err != nil {
		return nil, fmt.Errorf("redis: jobs %s: %w", sid, err)
	}
	out, err := jobInfos(sid, vs)
	if err != nil {
		return nil, fmt.Errorf("redis: jobs %s: %w", sid, err)
	}
	return out, nil
}

// jobInfos decodes the records of the jobs under the prefix of sid into
// the jobs of the call sid, ordered by delivery ID.
func jobInfos(sid string, vs []string) ([]store.JobInfo, error) {
	var out []store.JobInfo
	for _, v := range vs {
		rec, j, err := decodeRecord(v)
		if err != nil {
			return nil, err
		}
		// A Sid that contains "/" could share the prefix of another
		// call's deliveries.
		if j.Delivery.CallSid == sid {
			out = append(out, store.JobInfo{Job: j, State: rec.State, Kind: rec.Kind})
		}
	}
	// The plan lists its jobs in the order they were written.
	slices.SortFunc(out, func(a, b store.JobInfo) int { return strings.Compare(a.Job.Delivery.ID, b.Job.Delivery.ID) })
	return out, nil
}

// Stats counts what the store holds, in one MULTI, so the counts agree
// with each other. Pending includes claimed jobs; EarliestDue is the first
// member of the due index (every score is 0, so rank order is time order).
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	if err := ctx.Err(); err != nil {
		return store.Stats{}, fmt.Errorf("redis: stats: %w", err)
	}
	k := s.keys
	var calls, pending, done, dead, rejected *goredis.IntCmd
	var first *goredis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		calls = p.HLen(ctx, k.calls)
		pending = p.ZCard(ctx, k.due)
		first = p.ZRange(ctx, k.due, 0, 0)
		done = p.ZCard(ctx, k.done)
		dead = p.ZCard(ctx, k.dead)
		rejected = p.ZCard(ctx, k.rejectedAt)
		return nil
	})
	if err != nil {
		return store.Stats{}, fmt.Errorf("redis: stats: %w", err)
	}
	st := store.Stats{
		Calls:    int(calls.Val()),
		Pending:  int(pending.Val()),
		Done:     int(done.Val()),
		Dead:     int(dead.Val()),
		Rejected: int(rejected.Val()),
	}
	if ms := first.Val(); len(ms) > 0 {
		m := ms[0]
		if len(m) > timeLen {
			m = m[:timeLen]
		}
		if st.EarliestDue, err = decodeTime(m); err != nil {
			return store.Stats{}, fmt.Errorf("redis: stats: due index: %w", err)
		}
	}
	return st, nil
}
