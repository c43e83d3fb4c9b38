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
	v := b.calls.Get([]byte(sid))
	if v == nil {
		return store.CallSummary{}, false, nil
	}
	var call struct {
		Event forwarder.Event `json:"event"`
	}
	if err := json.Unmarshal(v, &call); err != nil {
		return store.CallSummary{}, false, fmt.Errorf("decode call %s: %w", sid, err)
	}
	jobs, err := jobsOf(b.jobs, sid)
	if err != nil || !f.Keep(sid, jobs) {
		return store.CallSummary{}, false, err
	}
	return store.CallSummary{Sid: sid, Event: call.Event, At: decodeTime(k).UTC(), Jobs: jobs}, true, nil
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
