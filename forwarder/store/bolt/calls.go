package bolt

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// ListCalls lists the calls that pass f, newest accepted first, walking
// the accepted index backwards from cursor (exclusive; from f.Until, or
// the newest call, when cursor is ""). A page holds at most limit calls
// (store.CallPage: 50 when limit <= 0, at most 1,000) and examines at most
// store.CallScanFactor times that many; next is the cursor after the last
// call examined, or "" when the index holds no more calls at or after
// f.Since. A cursor is the accepted time (16 hex digits) and the Sid of
// the last call examined; a malformed one is an error.
func (s *Store) ListCalls(ctx context.Context, f store.CallFilter, cursor string, limit int) ([]store.CallSummary, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("bolt: list calls: %w", err)
	}
	if err := f.Check(); err != nil {
		return nil, "", fmt.Errorf("bolt: list calls: %w", err)
	}
	size, budget := store.CallPage(limit)
	from, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("bolt: list calls: %w", err)
	}
	if from == nil && !f.Until.IsZero() {
		if f.Until.Before(minTime) {
			return nil, "", nil
		}
		if f.Until.Before(maxTime) {
			from = encodeTime(f.Until.Add(time.Nanosecond))
		}
	}
	var since []byte
	if !f.Since.IsZero() && f.Since.After(minTime) {
		since = encodeTime(f.Since)
	}
	var out []store.CallSummary
	var next string
	err = s.db.View(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		c := b.accepted.Cursor()
		var k []byte
		if from == nil {
			k, _ = c.Last()
		} else if k, _ = c.Seek(from); k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		var last []byte
		for examined := 0; k != nil; k, _ = c.Prev() {
			if since != nil && bytes.Compare(k[:timeLen], since) < 0 {
				return nil
			}
			if examined == budget || len(out) == size {
				next = encodeCursor(last)
				return nil
			}
			examined++
			last = k
			sum, ok, err := summary(b, k, f)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, sum)
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("bolt: list calls: %w", err)
	}
	return out, next, nil
}

// summary reads the call of the accepted index entry k with its jobs; ok
// is false when it does not pass f or is no longer stored.
func summary(b buckets, k []byte, f store.CallFilter) (store.CallSummary, bool, error) {
	sid := keyID(k)
	if !strings.HasPrefix(sid, f.Sid) {
		return store.CallSummary{}, false, nil
	}
	if f.State != "" || f.Rule != "" || f.Destination != "" {
		// Most calls fail such a filter: it is judged on the few fields
		// it reads, and only a call it keeps is read whole.
		keep, err := keepCall(b, sid, f)
		if err != nil || !keep {
			return store.CallSummary{}, false, err
		}
	}
	stored, _ := storedCall(b, []byte(sid))
	v, err := decodeCall(stored)
	if err != nil {
		return store.CallSummary{}, false, fmt.Errorf("call %s: %w", sid, err)
	}
	if v == nil {
		return store.CallSummary{}, false, nil
	}
	var call struct {
		Event forwarder.Event `json:"event"`
	}
	if err := json.Unmarshal(v, &call); err != nil {
		return store.CallSummary{}, false, fmt.Errorf("decode call %s: %w", sid, err)
	}
	jobs, err := jobsOf(b, sid)
	if err != nil || !f.Keep(sid, jobs) {
		return store.CallSummary{}, false, err
	}
	return store.CallSummary{Sid: sid, Event: call.Event, At: decodeTime(k).UTC(), Jobs: jobs}, true, nil
}

// filterRecord is the part of a job record a CallFilter reads (through
// store.CallFilter.Keep and store.JobInfo.Outcome).
type filterRecord struct {
	Job struct {
		Delivery struct {
			CallSid     string `json:"call_sid"`
			Rule        string `json:"rule"`
			Destination string `json:"destination"`
			Ads         *struct {
				Backend string `json:"backend"`
			} `json:"ads"`
		} `json:"delivery"`
		Verdict *forwarder.Verdict `json:"verdict"`
	} `json:"job"`
	State store.JobState `json:"state"`
	Kind  string         `json:"kind"`
}

// keepCall reports whether f keeps the call sid, reading of its jobs only
// what f reads: the same answer as f.Keep on its jobs, at a fraction of
// the cost of decoding them.
func keepCall(b buckets, sid string, f store.CallFilter) (bool, error) {
	prefix := []byte(sid + "/")
	if keep, ok := keepByState(b.jobs, prefix, f); ok {
		return keep, nil
	}
	var infos []store.JobInfo
	for k, v := range jobsUnder(b.jobs, prefix) {
		v, err := decodeJob(b.done, k, v)
		if err != nil {
			return false, fmt.Errorf("job %s: %w", k, err)
		}
		var r filterRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return false, fmt.Errorf("decode job %s: %w", k, err)
		}
		d := r.Job.Delivery
		if d.CallSid != sid {
			continue // another call's, whose Sid has sid + "/" as prefix
		}
		info := store.JobInfo{State: r.State, Kind: r.Kind}
		info.Job.Verdict = r.Job.Verdict
		info.Job.Delivery = forwarder.Delivery{CallSid: d.CallSid, Rule: d.Rule, Destination: d.Destination}
		if d.Ads != nil {
			info.Job.Delivery.Ads = &forwarder.AdsConversion{Backend: d.Ads.Backend}
		}
		infos = append(infos, info)
	}
	return f.Keep(sid, infos), nil
}

// keepByState answers keepCall without decoding any record when f asks
// for a job state alone (pending, done, dead, dropped): each record's
// state is read where the encoding puts it, right after the job object.
// ok is false when it cannot tell: another filter, a record not encoded
// as expected, or a key under prefix that may be another call's (a Sid
// with "/" in it); keepCall then decodes.
func keepByState(jobs *bbolt.Bucket, prefix []byte, f store.CallFilter) (keep, ok bool) {
	switch store.JobState(f.State) {
	case store.JobPending, store.JobDone, store.JobDead, store.JobDropped:
	default:
		return false, false
	}
	if f.Rule != "" || f.Destination != "" {
		return false, false
	}
	for k, v := range jobsUnder(jobs, prefix) {
		// The ID of a job of this call is Sid/rule/destination.
		if bytes.Count(k[len(prefix):], []byte("/")) != 1 {
			return false, false
		}
		state := string(store.JobDone) // a done mark
		if !isDoneMark(v) {
			v, err := decodeJob(nil, k, v)
			if err != nil {
				return false, false
			}
			s, ok := recordState(v)
			if !ok {
				return false, false
			}
			state = s
		}
		if state == f.State {
			keep = true
		}
	}
	return keep, true
}

// stateField is what follows the job object in an encoded record.
var stateField = []byte(`,"state":"`)

// recordState reads the state of the encoded record v without decoding
// it: the record starts with its job object (as record and rawRecord
// declare it) and the state follows. ok is false for a record not
// encoded so.
func recordState(v []byte) (string, bool) {
	const head = `{"job":`
	if !bytes.HasPrefix(v, []byte(head)) {
		return "", false
	}
	end, ok := objectEnd(v, len(head))
	if !ok || !bytes.HasPrefix(v[end:], stateField) {
		return "", false
	}
	rest := v[end+len(stateField):]
	i := bytes.IndexByte(rest, '"')
	if i < 0 || bytes.IndexByte(rest[:i], '\\') >= 0 {
		return "", false
	}
	return string(rest[:i]), true
}

// encodeCursor returns the cursor of the accepted index entry k: its time
// as 16 hex digits, then the Sid (the Redis store's cursors look alike).
func encodeCursor(k []byte) string { return hex.EncodeToString(k[:timeLen]) + keyID(k) }

// decodeCursor returns the accepted index key of cursor, nil for "".
func decodeCursor(cursor string) ([]byte, error) {
	if cursor == "" {
		return nil, nil
	}
	if len(cursor) <= 2*timeLen {
		return nil, fmt.Errorf("bad cursor %q", cursor)
	}
	t, err := hex.DecodeString(cursor[:2*timeLen])
	if err != nil {
		return nil, fmt.Errorf("bad cursor %q", cursor)
	}
	return append(t, cursor[2*timeLen:]...), nil
}
