package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// listCallsScript reads a page of the accepted index, newest first, with
// each call and the records of its jobs.
//
//	KEYS: accepted calls ids jobs plans
//	ARGV: upper and lower lex bounds, count
//	returns per call {member, call JSON ("" when it is gone), {records}}
var listCallsScript = goredis.NewScript(luaPlan + `
local ms = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, ARGV[3])
local out = {}
for _, m in ipairs(ms) do
  local sid = string.sub(m, 17)
  local call = redis.call('HGET', KEYS[2], sid) or ''
  local recs = {}
  if call ~= '' then
    for _, id in ipairs(planned(KEYS[3], KEYS[5], sid, '[' .. sid .. '/', '(' .. sid .. '0')) do
      local v = redis.call('HGET', KEYS[4], id)
      if v then recs[#recs + 1] = v end
    end
  end
  out[#out + 1] = {m, call, recs}
end
return out
`)

// ListCalls lists the calls that pass f, newest accepted first, walking
// the accepted index backwards from cursor (exclusive; from f.Until, or
// the newest call, when cursor is ""), in one script per page. A page
// holds at most limit calls (store.CallPage: 50 when limit <= 0, at most
// 1,000) and examines at most store.CallScanFactor times that many; next
// is the cursor after the last call examined, or "" when the index holds
// no more calls at or after f.Since. A cursor is the accepted index
// member of the last call examined (its time as 16 hex digits, then its
// Sid); a malformed one is an error.
func (s *Store) ListCalls(ctx context.Context, f store.CallFilter, cursor string, limit int) ([]store.CallSummary, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("redis: list calls: %w", err)
	}
	if err := f.Check(); err != nil {
		return nil, "", fmt.Errorf("redis: list calls: %w", err)
	}
	size, budget := store.CallPage(limit)
	hi, lo := "+", "-"
	switch {
	case cursor != "":
		if _, err := decodeTime(cursor[:min(len(cursor), timeLen)]); err != nil || len(cursor) <= timeLen {
			return nil, "", fmt.Errorf("redis: list calls: bad cursor %q", cursor)
		}
		hi = "(" + cursor
	case f.Until.IsZero():
	case f.Until.Before(firstTime):
		return nil, "", nil
	case f.Until.Before(lastTime):
		hi = upTo(f.Until)
	}
	if !f.Since.IsZero() && f.Since.After(firstTime) {
		if f.Since.After(lastTime) {
			return nil, "", nil
		}
		lo = "[" + encodeTime(f.Since)
	}
	// One more than the budget tells whether the index goes on.
	res, err := s.run(ctx, listCallsScript, []string{s.keys.accepted, s.keys.calls, s.keys.ids, s.keys.jobs, s.keys.plans}, hi, lo, budget+1)
	if err != nil {
		return nil, "", fmt.Errorf("redis: list calls: %w", err)
	}
	rows, ok := res.([]any)
	if !ok {
		return nil, "", fmt.Errorf("redis: list calls: script returned %T, want an array", res)
	}
	var out []store.CallSummary
	for i, row := range rows {
		if i == budget || len(out) == size {
			return out, summaryMember(rows[i-1]), nil
		}
		sum, ok, err := summaryOf(row, f)
		if err != nil {
			return nil, "", fmt.Errorf("redis: list calls: %w", err)
		}
		if ok {
			out = append(out, sum)
		}
	}
	return out, "", nil
}

// summaryMember returns the accepted index member of a listCallsScript
// row.
func summaryMember(row any) string {
	r, _ := row.([]any)
	if len(r) == 0 {
		return ""
	}
	m, _ := r[0].(string)
	return m
}

// summaryOf reads a row of listCallsScript; ok is false when the call
// does not pass f or is no longer stored.
func summaryOf(row any, f store.CallFilter) (store.CallSummary, bool, error) {
	r, ok := row.([]any)
	if !ok || len(r) != 3 {
		return store.CallSummary{}, false, fmt.Errorf("script returned %v, want {member, call, records}", row)
	}
	m, _ := r[0].(string)
	callJSON, _ := r[1].(string)
	if len(m) <= timeLen {
		return store.CallSummary{}, false, fmt.Errorf("bad index entry %q", m)
	}
	sid := m[timeLen:]
	if callJSON == "" || !strings.HasPrefix(sid, f.Sid) {
		return store.CallSummary{}, false, nil
	}
	at, err := decodeTime(m[:timeLen])
	if err != nil {
		return store.CallSummary{}, false, fmt.Errorf("index entry of %s: %w", sid, err)
	}
	vs, err := stringsOf(r[2])
	if err != nil {
		return store.CallSummary{}, false, err
	}
	jobs, err := jobInfos(sid, vs)
	if err != nil || !f.Keep(sid, jobs) {
		return store.CallSummary{}, false, err
	}
	var call struct {
		Event forwarder.Event `json:"event"`
	}
	if err := json.Unmarshal([]byte(callJSON), &call); err != nil {
		return store.CallSummary{}, false, fmt.Errorf("decode call %s: %w", sid, err)
	}
	return store.CallSummary{Sid: sid, Event: call.Event, At: at, Jobs: jobs}, true, nil
}
