package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// Claim hands out up to max jobs due now, oldest due first, each under a
// fresh lease: the job's Lease is a new random token and its DueAt the end
// of the lease, so a job that is never settled becomes due again by
// itself. Attempts is unchanged. max <= 0 claims nothing.
//
// The jobs due are read, and their leased records made, encoded and
// compressed, and their deliveries decoded, before the write transaction
// that every writer waits for (prepareClaim). The transaction itself takes
// the jobs due as it finds them, and writes a prepared record only for a
// job whose stored record it finds unchanged, byte for byte, since it was
// prepared; it rewrites any other as it reads it.
func (s *Store) Claim(ctx context.Context, max int) ([]store.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bolt: claim: %w", err)
	}
	if max <= 0 {
		return nil, nil
	}
	now := s.opts.Now()
	leaseEnd := now.Add(s.opts.Lease)
	pre, err := s.prepareClaim(max, now, leaseEnd)
	if err != nil {
		return nil, fmt.Errorf("bolt: claim: %w", err)
	}
	return s.claim(max, now, leaseEnd, pre)
}

// claim is Claim's write transaction: it claims up to max jobs due at
// now under leases ending at leaseEnd, writing the value prepared in pre
// for each job whose stored record is the one it was prepared from.
func (s *Store) claim(max int, now, leaseEnd time.Time, pre map[string]*claimPrep) ([]store.Job, error) {
	nowKey := encodeTime(now)
	// The records not prepared are rewritten with their deliveries left
	// encoded, and decoded after the commit, outside the write lock.
	var claimed []claimedJob
	err := s.commits.update(func(tx *bbolt.Tx) error {
		claimed = nil
		b := bucketsOf(tx)
		var keys [][]byte
		c := b.due.Cursor()
		for k, _ := c.First(); k != nil && len(keys) < max; k, _ = c.Next() {
			if bytes.Compare(k[:timeLen], nowKey) > 0 {
				break
			}
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			id := keyID(k)
			var job claimedJob
			if p := pre[id]; p != nil && bytes.Equal(b.jobs.Get([]byte(id)), p.stored) {
				if err := b.jobs.Put([]byte(id), p.value); err != nil {
					return fmt.Errorf("put job %s: %w", id, err)
				}
				job.pre = p
			} else {
				rec, ok, err := getRawRecord(b, id)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("due job %s has no record", id)
				}
				rec.leased(leaseEnd)
				if err := putLease(b.jobs, id, rec); err != nil {
					return err
				}
				job.rec = rec
			}
			if err := b.due.Delete(k); err != nil {
				return fmt.Errorf("claim job %s: %w", id, err)
			}
			if err := b.due.Put(timeKey(leaseEnd, id), nil); err != nil {
				return fmt.Errorf("put due %s: %w", id, err)
			}
			claimed = append(claimed, job)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bolt: claim: %w", err)
	}
	jobs := make([]store.Job, len(claimed))
	for i, c := range claimed {
		if c.pre != nil {
			jobs[i] = c.pre.job
			continue
		}
		if jobs[i], err = c.rec.job(); err != nil {
			// Claimed but unreadable: the job comes back when its
			// lease ends, and fails here again until it is fixed.
			return nil, fmt.Errorf("bolt: claim: %w", err)
		}
	}
	return jobs, nil
}

// claimedJob is a job claimed by a transaction: prepared, or rewritten
// as read (its delivery still encoded).
type claimedJob struct {
	pre *claimPrep
	rec rawRecord
}

// claimPrep is a job due, prepared for a claim before its transaction:
// its stored value as read, the value that claims it under a new lease,
// and the job the claim hands out.
type claimPrep struct {
	stored []byte
	value  []byte
	job    store.Job
}

// prepareClaim reads up to max jobs due at now in a read transaction
// and prepares their claims under leases ending at leaseEnd, by delivery
// ID: each record as the claim writes it (pending, a new lease token,
// due at leaseEnd), encoded and compressed, and the job with its
// delivery decoded. A job whose record cannot be read or decoded is left
// out: its claim, if any, reads it in the transaction, and reports what
// is wrong with it.
func (s *Store) prepareClaim(max int, now, leaseEnd time.Time) (map[string]*claimPrep, error) {
	nowKey := encodeTime(now)
	type due struct {
		id     string
		stored []byte
	}
	var found []due
	err := s.db.View(func(tx *bbolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		c := tx.Bucket(bucketDue).Cursor()
		for k, _ := c.First(); k != nil && len(found) < max; k, _ = c.Next() {
			if bytes.Compare(k[:timeLen], nowKey) > 0 {
				break
			}
			id := keyID(k)
			if v := jobs.Get([]byte(id)); v != nil {
				found = append(found, due{id: id, stored: bytes.Clone(v)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read jobs due: %w", err)
	}
	pre := make(map[string]*claimPrep, len(found))
	values := make([]*[]byte, 0, len(found))
	for _, d := range found {
		// A job due is pending: its record is in the jobs bucket, and a
		// done mark (no job due) is left to the claim to report.
		rec, ok, err := decodeStoredRaw(nil, []byte(d.id), d.stored)
		if err != nil || !ok {
			continue
		}
		rec.leased(leaseEnd)
		enc, err := encodeRawRecord(rec)
		if err != nil {
			continue
		}
		j, err := rec.job()
		if err != nil {
			continue
		}
		p := &claimPrep{stored: d.stored, value: jobValue([]byte(d.id), rec.State, enc), job: j}
		pre[d.id] = p
		values = append(values, &p.value)
	}
	compressEach(values)
	return pre, nil
}

// Ack records that j was delivered: the job becomes a done mark, kept for
// the dedup window so that re-planning its call cannot send it again.
// Attempts counts the successful send too. It returns store.ErrLeaseLost
// when j.Lease is not the job's current lease.
func (s *Store) Ack(ctx context.Context, j store.Job) error {
	return s.AckMany(ctx, []store.Job{j})[0]
}

// AckMany acknowledges jobs as Ack does, all in one transaction (one
// fsync), and returns one error per job, index-aligned: nil, an error
// wrapping store.ErrLeaseLost for a job whose lease was lost (the others
// are acknowledged all the same), or, for every job, the failure of the
// transaction, which then recorded none of them.
func (s *Store) AckMany(ctx context.Context, jobs []store.Job) []error {
	return s.AckPolled(ctx, jobs, store.Poll{})
}

// Retry schedules j again at at, keeping reason as its LastError. It
// returns store.ErrLeaseLost when j.Lease is not the job's current lease.
func (s *Store) Retry(ctx context.Context, j store.Job, at time.Time, reason string) error {
	return s.settle(ctx, "retry", []store.Job{j}, nil, func(b buckets, _ int, id string, rec *rawRecord, _ time.Time) error {
		rec.Job.DueAt = at
		rec.Job.LastError = reason
		return b.due.Put(timeKey(at, id), nil)
	}, nil)[0]
}

// Bury dead-letters j with reason (also kept as its LastError) and code.
// It returns store.ErrLeaseLost when j.Lease is not the job's current
// lease.
func (s *Store) Bury(ctx context.Context, j store.Job, reason, code string) error {
	return s.settle(ctx, "bury", []store.Job{j}, nil, func(b buckets, _ int, id string, rec *rawRecord, now time.Time) error {
		rec.State = store.JobDead
		rec.Settled = now
		rec.Reason = reason
		rec.Code = code
		rec.Job.LastError = reason
		return b.dead.Put(timeKey(now, id), nil)
	}, nil)[0]
}

// settle ends the claims of jobs in one transaction, checking each lease:
// for each job whose lease is current it takes the job off the due index,
// clears the lease, counts the attempt, stores the History (bounded) and
// Verdict of the job given, lets apply move the job to its
// next state and index (told the job's index in jobs), and writes it back. It returns one error per job:
// nil, ErrLeaseLost, or the transaction's failure.
//
// finish, when not nil, runs last in the same transaction, told which
// jobs were settled.
//
// prepare, when not nil, runs before the transaction: it returns, for
// each job it can, the record apply will make of it and that record's
// stored value, from the job in hand and the time of the settlement. A
// job whose record comes out of apply as prepared is written with the
// value prepared, encoded and compressed outside the transaction that
// every writer waits for; any other is encoded in it.
func (s *Store) settle(ctx context.Context, op string, jobs []store.Job, prepare func(now time.Time) []prepared, apply func(b buckets, i int, id string, rec *rawRecord, now time.Time) error, finish func(b buckets, lost []bool, now time.Time) error) []error {
	errs := make([]error, len(jobs))
	if len(jobs) == 0 {
		return errs
	}
	fail := func(err error) []error {
		for i, j := range jobs {
			errs[i] = fmt.Errorf("bolt: %s %s: %w", op, j.Delivery.ID, err)
		}
		return errs
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	now := s.opts.Now()
	lost := make([]bool, len(jobs))
	// What the tallies read of each delivery, from the jobs in hand: a
	// job settled under its current lease is the record claimed, whose
	// destination (part of its ID) and backend do not change.
	deliveries := make([]tallyDelivery, len(jobs))
	for i, j := range jobs {
		deliveries[i] = deliveryTally(j.Delivery)
	}
	var expect []prepared
	if prepare != nil {
		expect = prepare(now)
	}
	err := s.commits.update(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		for i, j := range jobs {
			id := j.Delivery.ID
			lost[i] = false
			rec, ok, err := getRawRecord(b, id)
			if err != nil {
				return err
			}
			if !ok || rec.State != store.JobPending || rec.Job.Lease == "" || rec.Job.Lease != j.Lease {
				lost[i] = true
				continue
			}
			before := rec.tallyKeys(deliveries[i])
			if err := b.due.Delete(timeKey(rec.Job.DueAt, id)); err != nil {
				return err
			}
			rec.Job.Lease = ""
			rec.Job.Attempts++
			rec.Job.History = store.BoundHistory(j.History)
			rec.Job.Verdict = j.Verdict
			if err := apply(b, i, id, &rec, now); err != nil {
				return err
			}
			after := rec.tallyKeys(deliveries[i])
			if i < len(expect) && expect[i].value != nil && sameEncoding(&expect[i].rec, &rec) {
				if err := putSettledValue(b, id, &rec, expect[i].value, before, after); err != nil {
					return err
				}
				continue
			}
			if err := putSettled(b, id, rec, before, after); err != nil {
				return err
			}
		}
		if finish != nil {
			return finish(b, lost, now)
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	for i, j := range jobs {
		if lost[i] {
			errs[i] = fmt.Errorf("bolt: %s %s: %w", op, j.Delivery.ID, store.ErrLeaseLost)
		}
	}
	return errs
}

// prepared is a settled job's record, made before the write transaction
// from the job in hand, and its stored value (nil: none prepared).
type prepared struct {
	rec   rawRecord
	value []byte
}

// sameEncoding reports whether a and b encode to the same bytes: equal
// fields, times at the same instant in the same offset, deliveries of
// the same bytes.
func sameEncoding(a, b *rawRecord) bool {
	ja, jb := &a.Job, &b.Job
	return a.State == b.State && sameTime(a.Settled, b.Settled) && a.Reason == b.Reason && a.Code == b.Code &&
		a.Kind == b.Kind && a.Request == b.Request &&
		ja.Attempts == jb.Attempts && sameTime(ja.DueAt, jb.DueAt) && ja.LastError == jb.LastError && ja.Lease == jb.Lease &&
		(ja.Delivery == nil) == (jb.Delivery == nil) && bytes.Equal(ja.Delivery, jb.Delivery) &&
		slices.EqualFunc(ja.History, jb.History, sameAttempt) &&
		(ja.Verdict == jb.Verdict || ja.Verdict != nil && jb.Verdict != nil && *ja.Verdict == *jb.Verdict)
}

// sameAttempt reports whether a and b encode to the same bytes.
func sameAttempt(a, b store.Attempt) bool {
	return sameTime(a.At, b.At) && a.Took == b.Took && a.Result == b.Result && a.Code == b.Code && a.Error == b.Error &&
		a.RequestID == b.RequestID
}

// sameTime reports whether a and b encode to the same text: the same
// instant in the same offset from UTC.
func sameTime(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}
