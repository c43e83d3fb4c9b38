package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store"
)

// extendScript keeps the claims of jobs after checking each lease: a job
// whose lease is current is hidden until the new end, unless its lease
// ends later already.
//
//	KEYS: jobs due
//	ARGV: new lease end, then id lease for each job
//	returns per job 1, or 0 when its lease is lost
var extendScript = goredis.NewScript(`
local til = ARGV[1]
local out = {}
for i = 2, #ARGV, 2 do
  local id, lease, ok = ARGV[i], ARGV[i + 1], 0
  local v = redis.call('HGET', KEYS[1], id)
  if v then
    local r = cjson.decode(v)
    if r.state == 'pending' and r.lease and r.lease ~= '' and r.lease == lease then
      ok = 1
      if til > r.due then
        redis.call('ZREM', KEYS[2], r.due .. id)
        r.due = til
        redis.call('ZADD', KEYS[2], 0, r.due .. id)
        redis.call('HSET', KEYS[1], id, cjson.encode(r))
      end
    end
  end
  out[#out + 1] = ok
end
return out
`)

// Extend keeps the claims of jobs for d more: each job whose lease is
// current (the job is pending under j.Lease) is hidden until now+d, or
// its present lease end when that is later, under the same lease; up to
// 500 jobs in one script run (atomic). It returns one error per job,
// index-aligned: nil, an error wrapping store.ErrLeaseLost for a job
// whose lease is no longer current (left as it was), or the failure of
// the script run that had the job, which then extended none of its jobs.
func (s *Store) Extend(ctx context.Context, jobs []store.Job, d time.Duration) []error {
	errs := make([]error, len(jobs))
	til := encodeTime(s.opts.Now().Add(d))
	for lo := 0; lo < len(jobs); lo += maxAckScript {
		chunk := jobs[lo:min(lo+maxAckScript, len(jobs))]
		s.extendChunk(ctx, chunk, til, errs[lo:lo+len(chunk)])
	}
	return errs
}

// extendChunk runs extendScript on jobs, setting errs (index-aligned).
func (s *Store) extendChunk(ctx context.Context, jobs []store.Job, til string, errs []error) {
	fail := func(err error) {
		for i, j := range jobs {
			errs[i] = fmt.Errorf("redis: extend %s: %w", j.Delivery.ID, err)
		}
	}
	if err := ctx.Err(); err != nil {
		fail(err)
		return
	}
	args := make([]any, 0, 1+2*len(jobs))
	args = append(args, til)
	for _, j := range jobs {
		args = append(args, j.Delivery.ID, j.Lease)
	}
	res, err := s.run(ctx, extendScript, []string{s.keys.jobs, s.keys.due}, args...)
	if err != nil {
		fail(err)
		return
	}
	if err := leaseResults("extend", jobs, res, errs); err != nil {
		fail(err)
	}
}
