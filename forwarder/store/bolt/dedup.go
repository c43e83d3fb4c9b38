package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
)

// marks are the dedup marks of one Call.Sid: when each event of the call
// was accepted. Call.Sid names the call, so the Call.Initiate and the
// Call.Complete of one call share it: dedup is by event and Sid.
//
// They are encoded as the Sid's latest acceptance (8 bytes; the Sid's
// entry in the accepted index is at that time, which is how Sweep finds
// the marks), then one entry per event: the time (8 bytes), the event's
// length (uvarint) and the event. A value of the 8 bytes alone was
// written before dedup was keyed by event: see legacyMarks.
//
// A Sid's calls value holds them ahead of the stored call (value.go), so
// that an accept reads and writes one value for both:
//
//	valueMarked len(marks) marks call     len as a uvarint
//
// A calls value that does not start with valueMarked is the stored call
// alone, as earlier releases wrote it, its marks in the dedup bucket under
// the Sid; the next accept of the Sid moves them, and Sweep reads them
// there until then.
type marks map[forwarder.Event]time.Time

// anyEvent marks every event: a legacy mark whose event cannot be told.
const anyEvent forwarder.Event = "*"

// of returns when event was marked.
func (m marks) of(event forwarder.Event) (time.Time, bool) {
	if at, ok := m[event]; ok {
		return at, true
	}
	at, ok := m[anyEvent]
	return at, ok
}

// live returns the marks younger than window at now.
func (m marks) live(now time.Time, window time.Duration) marks {
	out := make(marks, len(m)+1)
	for event, at := range m {
		if now.Sub(at) < window {
			out[event] = at
		}
	}
	return out
}

// encode returns the dedup value of m, whose latest acceptance is latest.
func (m marks) encode(latest time.Time) []byte {
	v := encodeTime(latest)
	for event, at := range m {
		v = append(v, encodeTime(at)...)
		v = binary.AppendUvarint(v, uint64(len(event)))
		v = append(v, event...)
	}
	return v
}

// decodeMarks reads the marks v of sid; its stored call (call, as
// splitCall returns it) tells the event of a legacy mark.
func decodeMarks(call, sid, v []byte) (marks, error) {
	if len(v) == timeLen {
		return legacyMarks(call, decodeTime(v)), nil
	}
	m := marks{}
	for rest := v[timeLen:]; len(rest) > 0; {
		if len(rest) < timeLen {
			return nil, fmt.Errorf("dedup mark of %s: truncated", sid)
		}
		at := decodeTime(rest)
		n, size := binary.Uvarint(rest[timeLen:])
		rest = rest[timeLen+max(size, 0):]
		if size <= 0 || n > uint64(len(rest)) {
			return nil, fmt.Errorf("dedup mark of %s: bad event length", sid)
		}
		m[forwarder.Event(rest[:n])] = at
		rest = rest[n:]
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("dedup mark of %s: no event", sid)
	}
	return m, nil
}

// legacyMarks reads a mark written under the Sid alone, at at, before
// dedup was keyed by event. Such a mark was written by the first event of
// the call to arrive, and Accept stored that event's call with it, so the
// mark stands for the event of the stored call: a repeated Call.Complete
// is still a duplicate, while the Call.Complete that follows a marked
// Call.Initiate is accepted. When the stored call cannot be read, the mark
// stands for every event, as it used to.
func legacyMarks(call []byte, at time.Time) marks {
	var stored struct {
		Event forwarder.Event `json:"event"`
	}
	v, err := decodeValue(call)
	if err != nil || v == nil || json.Unmarshal(v, &stored) != nil || stored.Event == "" {
		return marks{anyEvent: at}
	}
	return marks{stored.Event: at}
}

// valueMarked starts a calls value that holds the Sid's marks (see
// marks; value.go lists the other formats).
const valueMarked byte = 0x03

// splitCall splits the calls value v into the marks it holds (nil for a
// value written by an earlier release, whose marks are in the dedup
// bucket) and the stored call (nil for nil).
func splitCall(v []byte) (m, call []byte, err error) {
	if len(v) == 0 || v[0] != valueMarked {
		return nil, v, nil
	}
	n, size := binary.Uvarint(v[1:])
	if size <= 0 || n < timeLen || n > uint64(len(v)-1-size) {
		return nil, nil, fmt.Errorf("%w: calls value with a bad length of marks", errValue)
	}
	start := 1 + size
	return v[start : start+int(n)], v[start+int(n):], nil
}

// joinCall returns the calls value that holds the marks m and the stored
// call.
func joinCall(m, call []byte) []byte {
	v := make([]byte, 0, 1+binary.MaxVarintLen64+len(m)+len(call))
	v = binary.AppendUvarint(append(v, valueMarked), uint64(len(m)))
	return append(append(v, m...), call...)
}

// A Sid's calls value (its marks and its call) is kept in the jobs
// bucket under callKey(sid): the Sid and a NUL byte, a key that sorts
// right before the Sid's jobs (Sid/rule/destination), so that an accept
// writes its call and its jobs into one leaf of one B-tree, and a delivery
// ID (which ends with a destination's name) is never a call's key.
// Earlier releases kept the call in the calls bucket, under the Sid, and
// its marks in the dedup bucket: both are still read (storedCall,
// storedMarks), the Sid's next accept moves them, and Sweep deletes them
// where they are.

// callKey returns the jobs bucket's key of the calls value of sid.
func callKey(sid []byte) []byte {
	return append(append(make([]byte, 0, len(sid)+1), sid...), 0)
}

// isCallKey reports whether k, a key of the jobs bucket, is a call's
// rather than a job's.
func isCallKey(k []byte) bool { return len(k) > 0 && k[len(k)-1] == 0 }

// jobsUnder yields the jobs of the jobs bucket whose IDs start with
// prefix, in key order, skipping the calls whose keys do too (those of
// Sids that extend another's with "/").
func jobsUnder(jobs *bbolt.Bucket, prefix []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func(k, v []byte) bool) {
		c := jobs.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if !isCallKey(k) && !yield(k, v) {
				return
			}
		}
	}
}

// callPlace is where a Sid's calls value was found.
type callPlace int

const (
	callNowhere callPlace = iota
	// callInJobs: in the jobs bucket, under callKey.
	callInJobs
	// callInCalls: in the calls bucket, under the Sid, as an earlier
	// release wrote it.
	callInCalls
)

// storedCall returns the calls value of sid (nil when the Sid has none)
// and where it is. The slice is the transaction's.
func storedCall(b buckets, sid []byte) ([]byte, callPlace) {
	if v := b.jobs.Get(callKey(sid)); v != nil {
		return v, callInJobs
	}
	if v := b.calls.Get(sid); v != nil {
		return v, callInCalls
	}
	return nil, callNowhere
}

// deleteCall deletes the calls value of sid found at place, uncounting it.
func deleteCall(b buckets, sid []byte, place callPlace) error {
	switch place {
	case callInJobs:
		return deleteCounted(b, b.jobs, keyCalls, callKey(sid))
	case callInCalls:
		return deleteCounted(b, b.calls, keyCalls, sid)
	}
	return nil
}

// storedMarks returns the marks of sid and its stored call, both nil when
// the Sid has neither, and where its calls value is. inDedup reports marks
// read from the dedup bucket (an earlier release's). The slices are the
// transaction's.
func storedMarks(b buckets, sid []byte) (m, call []byte, place callPlace, inDedup bool, err error) {
	v, place := storedCall(b, sid)
	m, call, err = splitCall(v)
	if err != nil {
		return nil, nil, place, false, fmt.Errorf("call %s: %w", sid, err)
	}
	if m == nil {
		m = b.dedup.Get(sid)
		inDedup = m != nil
	}
	return m, call, place, inDedup, nil
}

// decodeCall returns the JSON of the call stored in the calls value v
// (nil for nil).
func decodeCall(v []byte) ([]byte, error) {
	_, call, err := splitCall(v)
	if err != nil {
		return nil, err
	}
	return decodeValue(call)
}
