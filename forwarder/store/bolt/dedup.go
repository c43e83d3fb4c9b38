package bolt

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
)

// marks are the dedup marks of one Call.Sid: when each event of the call
// was accepted. Call.Sid names the call, so the Call.Initiate and the
// Call.Complete of one call share it: dedup is by event and Sid.
//
// The dedup bucket holds them under the Sid: first the Sid's latest
// acceptance (8 bytes; the Sid's entry in the accepted index is at that
// time, which is how Sweep finds the marks), then one entry per event:
// the time (8 bytes), the event's length (uvarint) and the event. A value
// of the 8 bytes alone was written before dedup was keyed by event: see
// legacyMarks.
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

// decodeMarks reads the dedup value v of sid; the calls bucket tells the
// event of a legacy mark.
func decodeMarks(calls *bbolt.Bucket, sid, v []byte) (marks, error) {
	if len(v) == timeLen {
		return legacyMarks(calls, sid, decodeTime(v)), nil
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
func legacyMarks(calls *bbolt.Bucket, sid []byte, at time.Time) marks {
	var stored struct {
		Event forwarder.Event `json:"event"`
	}
	v, err := decodeValue(calls.Get(sid))
	if err != nil || v == nil || json.Unmarshal(v, &stored) != nil || stored.Event == "" {
		return marks{anyEvent: at}
	}
	return marks{stored.Event: at}
}
