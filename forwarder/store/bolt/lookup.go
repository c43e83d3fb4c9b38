package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Call returns the call accepted under sid, or store.ErrNotFound (also
// once the call has been swept).
func (s *Store) Call(ctx context.Context, sid string) (*forwarder.Call, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: call %s: %w", sid, err)
	}
	var call forwarder.Call
	err := s.db.View(func(tx *bbolt.Tx) error {
		stored, _ := storedCall(bucketsOf(tx), []byte(sid))
		v, err := decodeCall(stored)
		if err != nil {
			return err
		}
		if v == nil {
			return store.ErrNotFound
		}
		return json.Unmarshal(v, &call)
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: call %s: %w", sid, err)
	}
	return &call, nil
}

// Jobs returns the jobs of the call sid with their states, ordered by
// delivery ID; none (and no error) when the call has none. Swept done
// marks and tombstones are no longer listed.
func (s *Store) Jobs(ctx context.Context, sid string) ([]store.JobInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: jobs %s: %w", sid, err)
	}
	var out []store.JobInfo
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		out, err = jobsOf(bucketsOf(tx), sid)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: jobs %s: %w", sid, err)
	}
	return out, nil
}

// jobsOf reads the jobs of the call sid, ordered by delivery ID.
func jobsOf(b buckets, sid string) ([]store.JobInfo, error) {
	prefix := []byte(sid + "/")
	var out []store.JobInfo
	for k, v := range jobsUnder(b.jobs, prefix) {
		v, err := decodeJob(b.done, k, v)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", k, err)
		}
		var rec record
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("decode job %s: %w", k, err)
		}
		// A Sid that contains "/" could share the prefix of another
		// call's deliveries.
		if rec.Job.Delivery.CallSid == sid {
			out = append(out, rec.info())
		}
	}
	return out, nil
}

// Stats counts what the store holds, from the counts the writes keep
// (tally.go): a read of a few keys, whatever the store holds. Pending
// includes claimed jobs; EarliestDue is the first key of the due index.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	if err := ctx.Err(); err != nil {
		return store.Stats{}, fmt.Errorf("bolt: stats: %w", err)
	}
	var st store.Stats
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		st = store.Stats{Calls: count(b.counts, keyCalls), Rejected: count(b.counts, keyRejected)}
		// The jobs of a state, summed over the destinations: the keys
		// TallyStateKey(dest, state) start with TallyStateKey("", state).
		for state, n := range map[store.JobState]*int{store.JobPending: &st.Pending, store.JobDone: &st.Done, store.JobDead: &st.Dead} {
			prefix := []byte(store.TallyStateKey("", state))
			c := b.tallies.Cursor()
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				*n += int(int64(binary.BigEndian.Uint64(v)))
			}
		}
		if k, _ := b.due.Cursor().First(); len(k) >= timeLen {
			st.EarliestDue = decodeTime(k).UTC()
		}
		return nil
	})
	if err != nil {
		return store.Stats{}, fmt.Errorf("bolt: stats: %w", err)
	}
	return st, nil
}
