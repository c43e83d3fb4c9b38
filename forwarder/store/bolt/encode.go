package bolt

import (
	"fmt"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/jsonenc"
	"github.com/callforward/callforward/forwarder/store"
)

// appendRecord appends to dst the encoding of rec, the bytes of
// json.Marshal(rec), written without reflection (see store.AppendJob),
// and returns the extended buffer. It fails where json.Marshal fails;
// dst is then returned as it was.
func appendRecord(dst []byte, rec *record) ([]byte, error) {
	b, err := store.AppendJob(append(dst, `{"job":`...), &rec.Job)
	if err != nil {
		return dst, err
	}
	b = append(b, `,"state":`...)
	b = jsonenc.AppendString(b, string(rec.State))
	if !rec.Settled.IsZero() {
		b = append(b, `,"settled":`...)
		t, err := rec.Settled.AppendText(append(b, '"'))
		if err != nil {
			return dst, fmt.Errorf("encode job %s: settled: %w", rec.Job.Delivery.ID, err)
		}
		b = append(t, '"')
	}
	b = optString(b, `,"reason":`, rec.Reason)
	b = optString(b, `,"code":`, rec.Code)
	b = optString(b, `,"kind":`, rec.Kind)
	b = optString(b, `,"request":`, rec.Request)
	return append(b, '}'), nil
}

// optString appends the member m (its comma, name and colon) with value
// s, unless s is empty (omitempty).
func optString(b []byte, m, s string) []byte {
	if s == "" {
		return b
	}
	return jsonenc.AppendString(append(b, m...), s)
}

// callSize and pendingRecordSize are about the lengths of a call with
// most of its fields and of a new pending job's record of a delivery
// planned by rules of the usual size (about 1,050 and 500 bytes for the
// benchmark call and rules), so that the buffer Accept and Replan encode
// into is allocated once.
const (
	callSize          = 1536
	pendingRecordSize = 640
)

// encodePending appends to b the record of the new pending job of each
// delivery of call sid, due at now, and returns the extended buffer and
// the jobs, whose values are slices of it. It checks that every delivery
// belongs to sid.
func encodePending(b []byte, sid string, deliveries []forwarder.Delivery, now time.Time) ([]byte, []newJob, error) {
	jobs := make([]newJob, len(deliveries))
	for i := range deliveries {
		d := &deliveries[i]
		if d.CallSid != sid || !strings.HasPrefix(d.ID, sid) || !strings.HasPrefix(d.ID[len(sid):], "/") {
			return nil, nil, fmt.Errorf("delivery %q belongs to call %q", d.ID, d.CallSid)
		}
		start := len(b)
		var err error
		b, err = appendRecord(b, &record{Job: store.Job{Delivery: *d, DueAt: now}, State: store.JobPending})
		if err != nil {
			return nil, nil, err
		}
		jobs[i] = newJob{id: []byte(d.ID), value: encodeValue(b[start:len(b):len(b)]), due: timeKey(now, d.ID), tally: pendingKeys(*d)}
	}
	return b, jobs, nil
}
