package redis

import (
	"encoding/json"
	"fmt"

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
	// History and Verdict are the job's attempts and Google's verdict,
	// each kept as an opaque JSON string, like the delivery.
	History string `json:"history,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	// Kind is the dead letter's kind ("" for store.DeadSend), while dead
	// or dropped.
	Kind string `json:"kind,omitempty"`
	// Request is the Data Manager request that carried the job when
	// AckPolled acknowledged it: ResolvePoll records verdicts only on a
	// job done by the request polled.
	Request string `json:"request,omitempty"`
	// DoneDelivery is what the job keeps of its delivery once the poll
	// of Request is resolved (store.DoneDelivery), while it waits for it;
	// an opaque JSON string like the delivery.
	DoneDelivery string `json:"done_delivery,omitempty"`
	// Dest is the delivery's destination and Tally the outcome the job
	// counts under in the tallies ("-" for none), once it is counted
	// (tally.go).
	Dest  string `json:"dest,omitempty"`
	Tally string `json:"tally,omitempty"`
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
	if rec.History != "" {
		if err := json.Unmarshal([]byte(rec.History), &j.History); err != nil {
			return record{}, store.Job{}, fmt.Errorf("decode job %s: history: %w", j.Delivery.ID, err)
		}
	}
	if rec.Verdict != "" {
		if err := json.Unmarshal([]byte(rec.Verdict), &j.Verdict); err != nil {
			return record{}, store.Job{}, fmt.Errorf("decode job %s: verdict: %w", j.Delivery.ID, err)
		}
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
	return store.DeadLetter{Job: j, Reason: rec.Reason, Code: rec.Code, At: at, Kind: rec.Kind}, nil
}

// outcomeOf encodes what a settlement stores of j: its history, bounded
// (store.BoundHistory), and its verdict, each as JSON or "" when empty.
func outcomeOf(j store.Job) (history, verdict string, err error) {
	if h := store.BoundHistory(j.History); len(h) > 0 {
		v, err := json.Marshal(h)
		if err != nil {
			return "", "", fmt.Errorf("encode history: %w", err)
		}
		history = string(v)
	}
	if j.Verdict != nil {
		v, err := json.Marshal(j.Verdict)
		if err != nil {
			return "", "", fmt.Errorf("encode verdict: %w", err)
		}
		verdict = string(v)
	}
	return history, verdict, nil
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
