package bolt

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// record is the value of a job in the jobs bucket.
type record struct {
	Job   store.Job      `json:"job"`
	State store.JobState `json:"state"`
	// Settled is when the job became done or dead; it locates the job's
	// key in the done or dead index.
	Settled time.Time `json:"settled,omitzero"`
	// Reason and Code are the burial's, while dead.
	Reason string `json:"reason,omitempty"`
	Code   string `json:"code,omitempty"`
}

// getRecord reads the job record of id; ok is false when there is none.
func getRecord(jobs *bbolt.Bucket, id string) (rec record, ok bool, err error) {
	v := jobs.Get([]byte(id))
	if v == nil {
		return record{}, false, nil
	}
	if err := json.Unmarshal(v, &rec); err != nil {
		return record{}, false, fmt.Errorf("decode job %s: %w", id, err)
	}
	return rec, true, nil
}

// putRecord writes rec under its delivery ID.
func putRecord(jobs *bbolt.Bucket, rec record) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", rec.Job.Delivery.ID, err)
	}
	if err := jobs.Put([]byte(rec.Job.Delivery.ID), v); err != nil {
		return fmt.Errorf("put job %s: %w", rec.Job.Delivery.ID, err)
	}
	return nil
}

// deadLetter returns the dead letter a dead record stands for.
func (r record) deadLetter() store.DeadLetter {
	return store.DeadLetter{Job: r.Job, Reason: r.Reason, Code: r.Code, At: r.Settled}
}
