package bolt

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// Extend keeps the claims of jobs for d more: each job whose lease is
// current (the job is pending under j.Lease) is hidden until now+d, or
// its present lease end when that is later, under the same lease. All in
// one transaction (one fsync). It returns one error per job,
// index-aligned: nil, an error wrapping store.ErrLeaseLost for a job
// whose lease is no longer current (left as it was), or, for every job,
// the failure of the transaction, which then extended none of them.
func (s *Store) Extend(ctx context.Context, jobs []store.Job, d time.Duration) []error {
	errs := make([]error, len(jobs))
	if len(jobs) == 0 {
		return errs
	}
	fail := func(err error) []error {
		for i, j := range jobs {
			errs[i] = fmt.Errorf("bolt: extend %s: %w", j.Delivery.ID, err)
		}
		return errs
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	end := s.opts.Now().Add(d)
	lost := make([]bool, len(jobs))
	err := s.commits.update(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		for i, j := range jobs {
			id := j.Delivery.ID
			rec, ok, err := getRawRecord(b, id)
			if err != nil {
				return err
			}
			lost[i] = !ok || rec.State != store.JobPending || rec.Job.Lease == "" || rec.Job.Lease != j.Lease
			if lost[i] || !end.After(rec.Job.DueAt) {
				continue
			}
			if err := b.due.Delete(timeKey(rec.Job.DueAt, id)); err != nil {
				return fmt.Errorf("delete due %s: %w", id, err)
			}
			rec.Job.DueAt = end
			if err := putLease(b.jobs, id, rec); err != nil {
				return err
			}
			if err := b.due.Put(timeKey(end, id), nil); err != nil {
				return fmt.Errorf("put due %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	for i, j := range jobs {
		if lost[i] {
			errs[i] = fmt.Errorf("bolt: extend %s: %w", j.Delivery.ID, store.ErrLeaseLost)
		}
	}
	return errs
}
