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
	if b, err = appendRecordTail(b, rec.State, rec.Settled, rec.Reason, rec.Code, rec.Kind, rec.Request); err != nil {
		return dst, fmt.Errorf("encode job %s: %w", rec.Job.Delivery.ID, err)
	}
	return b, nil
}

// appendRawRecord appends to dst the encoding of rec, its delivery's
// bytes copied as they are ("null" for none), and returns the extended
// buffer: the bytes of json.Marshal(rec) when the delivery is as
// json.Marshal writes it (compact, HTML-escaped), as the store writes
// every delivery. It fails where json.Marshal fails on the rest of the
// record; dst is then returned as it was.
func appendRawRecord(dst []byte, rec *rawRecord) ([]byte, error) {
	b := append(dst, rawPrefix...)
	if rec.Job.Delivery == nil {
		b = append(b, jsonNull...)
	} else {
		b = append(b, rec.Job.Delivery...)
	}
	j := store.Job{
		Attempts: rec.Job.Attempts, DueAt: rec.Job.DueAt, LastError: rec.Job.LastError, Lease: rec.Job.Lease,
		History: rec.Job.History, Verdict: rec.Job.Verdict,
	}
	b, err := store.AppendJobTail(b, &j)
	if err != nil {
		return dst, err
	}
	if b, err = appendRecordTail(b, rec.State, rec.Settled, rec.Reason, rec.Code, rec.Kind, rec.Request); err != nil {
		return dst, err
	}
	return b, nil
}

// appendRecordTail appends the members of a record that follow its job,
// and the record's closing brace.
func appendRecordTail(b []byte, state store.JobState, settled time.Time, reason, code, kind, request string) ([]byte, error) {
	b = append(b, `,"state":`...)
	b = jsonenc.AppendString(b, string(state))
	if !settled.IsZero() {
		b = append(b, `,"settled":`...)
		t, err := settled.AppendText(append(b, '"'))
		if err != nil {
			return nil, fmt.Errorf("settled: %w", err)
		}
		b = append(t, '"')
	}
	b = optString(b, `,"reason":`, reason)
	b = optString(b, `,"code":`, code)
	b = optString(b, `,"kind":`, kind)
	b = optString(b, `,"request":`, request)
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
// delivery of call sid, due at now, and returns the jobs with their
// records compressed. It compresses call too, the call's own encoded
// record when not nil, in the same hand-over to a compressor
// (compress.go), and returns its stored value. It checks that every
// delivery belongs to sid.
func encodePending(b, call []byte, sid string, deliveries []forwarder.Delivery, now time.Time) (callValue []byte, jobs []newJob, err error) {
	jobs = make([]newJob, len(deliveries))
	for i := range deliveries {
		d := &deliveries[i]
		if d.CallSid != sid || !strings.HasPrefix(d.ID, sid) || !strings.HasPrefix(d.ID[len(sid):], "/") {
			return nil, nil, fmt.Errorf("delivery %q belongs to call %q", d.ID, d.CallSid)
		}
		start := len(b)
		b, err = appendRecord(b, &record{Job: store.Job{Delivery: *d, DueAt: now}, State: store.JobPending})
		if err != nil {
			return nil, nil, err
		}
		id := []byte(d.ID)
		jobs[i] = newJob{id: id, value: b[start:len(b):len(b)], due: timeKey(now, d.ID), tally: pendingKeys(*d)}
	}
	compress(func() {
		if call != nil {
			callValue = compressValue(call)
		}
		for i := range jobs {
			jobs[i].value = compressValue(jobs[i].value)
		}
	})
	return callValue, jobs, nil
}
