package redis

import (
	"encoding/json"
	"fmt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// record is the value of a job in the jobs hash. The scripts read and
// rewrite it with cjson, so it holds only strings and a small integer:
// the delivery stays an opaque JSON string (cjson would round numbers and
// turn empty objects into arrays), and times are encodeTime strings, the
// same that start the job's index members.
type record struct {
	Delivery  string         `json:"delivery"`
	State     store.JobState `json:"state"`
	Attempts  int            `json:"attempts"`
	Due       string         `json:"due"`
	LastError string         `json:"last_error,omitempty"`
	Lease     string         `json:"lease,omitempty"`
	// Settled is when the job became done or dead; it locates the job in
	// the done or dead index.
	Settled string `json:"settled,omitempty"`
	// Reason and Code are the burial's, while dead.
	Reason string `json:"reason,omitempty"`
	Code   string `json:"code,omitempty"`
}

// newRecord encodes the pending record of a delivery planned at due.
func newRecord(d forwarder.Delivery, due string) (string, error) {
	dj, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	v, err := json.Marshal(record{Delivery: string(dj), State: store.JobPending, Due: due})
	if err != nil {
		return "", err
	}
	return string(v), nil
}

// decodeRecord reads a stored job record.
func decodeRecord(v string) (record, store.Job, error) {
	var rec record
	if err := json.Unmarshal([]byte(v), &rec); err != nil {
		return record{}, store.Job{}, fmt.Errorf("decode job: %w", err)
	}
	j := store.Job{Attempts: rec.Attempts, LastError: rec.LastError, Lease: rec.Lease}
	if err := json.Unmarshal([]byte(rec.Delivery), &j.Delivery); err != nil {
		return record{}, store.Job{}, fmt.Errorf("decode job: delivery: %w", err)
	}
	due, err := decodeTime(rec.Due)
	if err != nil {
		return record{}, store.Job{}, fmt.Errorf("decode job %s: due: %w", j.Delivery.ID, err)
	}
	j.DueAt = due
	return rec, j, nil
}

// decodeDeadLetter reads the record of a dead job.
func decodeDeadLetter(v string) (store.DeadLetter, error) {
	rec, j, err := decodeRecord(v)
	if err != nil {
		return store.DeadLetter{}, err
	}
	at, err := decodeTime(rec.Settled)
	if err != nil {
		return store.DeadLetter{}, fmt.Errorf("decode dead letter %s: %w", j.Delivery.ID, err)
	}
	return store.DeadLetter{Job: j, Reason: rec.Reason, Code: rec.Code, At: at}, nil
}

// stringsOf returns the strings a script returned as an array.
func stringsOf(v any) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("script returned %T, want an array", v)
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("script returned %T in an array, want strings", x)
		}
		out[i] = s
	}
	return out, nil
}
