package bolt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/callforward/callforward/forwarder/store"
)

// ErrInUse is returned by Open when another process (or another Store in
// this one) holds the database file. Policy: do not retry; run one
// process per data dir, or use the Redis store to run several.
var ErrInUse = errors.New("data dir in use by another process")

// The contract of package store, and each ability a consumer discovers by
// a type assertion, by name: a renamed method fails the build instead of
// switching the ability off.
var (
	_ store.Store          = (*Store)(nil)
	_ store.BatchAcker     = (*Store)(nil)
	_ store.CallerHistory  = (*Store)(nil)
	_ store.CommitObserver = (*Store)(nil)
	_ store.Diagnostics    = (*Store)(nil)
	_ store.CallLister     = (*Store)(nil)
	_ store.Tallier        = (*Store)(nil)
)

// lockTimeout is how long Open waits for the file lock before ErrInUse.
const lockTimeout = time.Second

// Store is the bbolt backend of package store. It is safe for concurrent
// use.
type Store struct {
	db   *bbolt.DB
	opts store.Options
	// space remembers an Accept that failed for lack of space (space.go).
	space spaceState
	// commits runs Accept, Reject and the queue's writes (commit.go).
	commits *committer
}

// Open opens the database file at path, creating it (mode 0600) and its
// directory (mode 0700) when missing, and makes every job left under a
// lease due now (see the package comment). It fails with ErrInUse when the
// file is held by another process.
func Open(path string, opts store.Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:      lockTimeout,
		FreelistType: bbolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: %w", path, ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s := &Store{db: db, opts: opts.WithDefaults(), space: spaceState{free: freeSpace}, commits: &committer{db: db, wrote: make(chan struct{}, 1)}}
	if err := db.Update(s.prepare); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	return s, nil
}

// prepare creates the buckets, counts the tallies of a store written
// before them (tally.go), and releases the leases (of jobs and of polls)
// of a previous run.
func (s *Store) prepare(tx *bbolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	b, now := bucketsOf(tx), s.opts.Now()
	if err := recount(b, tx.Bucket(bucketMeta), now); err != nil {
		return err
	}
	if err := releaseLeases(b, now); err != nil {
		return err
	}
	return releasePollLeases(b, now)
}

// releaseLeases makes every claimed job whose lease has not ended due at
// now. A claimed job's due key is at the end of its lease, so the walk
// starts at now: a job due before now (a backlog of any size, or a claim
// whose lease ended) is claimable as it is, and is not read. What is
// read is the claims still under lease and the retries scheduled later.
func releaseLeases(b buckets, now time.Time) error {
	var claimed []record
	c := b.due.Cursor()
	for k, _ := c.Seek(encodeTime(now)); k != nil; k, _ = c.Next() {
		rec, ok, err := getRecord(b, keyID(k))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("due job %s has no record", keyID(k))
		}
		if rec.Job.Lease != "" {
			claimed = append(claimed, rec)
		}
	}
	for _, rec := range claimed {
		if err := b.due.Delete(timeKey(rec.Job.DueAt, rec.Job.Delivery.ID)); err != nil {
			return fmt.Errorf("release job %s: %w", rec.Job.Delivery.ID, err)
		}
		rec.Job.Lease = ""
		rec.Job.DueAt = now
		if err := schedule(b, rec); err != nil {
			return fmt.Errorf("release job %s: %w", rec.Job.Delivery.ID, err)
		}
	}
	return nil
}

// Close closes the database file and releases its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close: %w", err)
	}
	return nil
}

// Ping reports whether the store can commit a write: it rewrites a
// heartbeat key in a real, fsynced transaction, so a read-only disk fails
// it; and it fails while the last Accept failed for lack of space and the
// disk has not got room again (space.go), since the heartbeat alone may
// still fit in the file's free pages.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bolt: ping: %w", err)
	}
	beat := encodeTime(s.opts.Now())
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyHeartbeat, beat)
	})
	if err != nil {
		return fmt.Errorf("bolt: ping: %w", err)
	}
	if err := s.space.check(s.db.Path()); err != nil {
		return fmt.Errorf("bolt: ping: %w", err)
	}
	return nil
}

// buckets are the buckets of one transaction.
type buckets struct {
	dedup, calls, accepted, jobs, due, done, dead, rejected *bbolt.Bucket
	// dropped indexes the tombstones of dropped dead letters.
	dropped *bbolt.Bucket
	// callers and callersAt are the caller history and its expiry index.
	callers, callersAt *bbolt.Bucket
	// polls are the pending polls by request id, pollsDue and pollsSent
	// their indexes by due time and by sent time (diagnostics.go).
	polls, pollsDue, pollsSent *bbolt.Bucket
	// tallies and tallyHours are the counts of store.Tallies (tally.go).
	tallies, tallyHours *bbolt.Bucket
	// counts are the calls and rejected requests held (tally.go).
	counts *bbolt.Bucket
}

// bucketsOf returns the buckets of tx, the indexes keyed by time set to
// fill their pages (fillAppend).
func bucketsOf(tx *bbolt.Tx) buckets {
	b := buckets{
		dedup:    tx.Bucket(bucketDedup),
		calls:    tx.Bucket(bucketCalls),
		accepted: tx.Bucket(bucketAccepted),
		jobs:     tx.Bucket(bucketJobs),
		due:      tx.Bucket(bucketDue),
		done:     tx.Bucket(bucketDone),
		dead:     tx.Bucket(bucketDead),
		rejected: tx.Bucket(bucketRejected),
		dropped:  tx.Bucket(bucketDropped),

		callers:   tx.Bucket(bucketCallers),
		callersAt: tx.Bucket(bucketCallersAt),

		polls:     tx.Bucket(bucketPolls),
		pollsDue:  tx.Bucket(bucketPollsDue),
		pollsSent: tx.Bucket(bucketPollsSent),

		tallies:    tx.Bucket(bucketTallies),
		tallyHours: tx.Bucket(bucketTallyHours),
		counts:     tx.Bucket(bucketCounts),
	}
	// The indexes keyed by time grow at their end: their pages are
	// filled before they split, rather than left half empty (bbolt's
	// default, right for the buckets keyed by Sid, where keys land
	// anywhere and a full page would split at every insert).
	for _, bk := range []*bbolt.Bucket{b.accepted, b.due, b.done, b.dead, b.rejected, b.dropped, b.callersAt, b.pollsDue, b.pollsSent, b.tallyHours} {
		if bk != nil {
			bk.FillPercent = fillAppend
		}
	}
	return b
}

// fillAppend is the FillPercent of the indexes keyed by time.
const fillAppend = 1.0

// settledIndex returns the index that holds a job in state, by the time
// it settled, when the state expires with the dedup window (done marks and
// tombstones); nil otherwise.
func (b buckets) settledIndex(state store.JobState) *bbolt.Bucket {
	switch state {
	case store.JobDone:
		return b.done
	case store.JobDropped:
		return b.dropped
	}
	return nil
}

// schedule writes a pending record and its due key.
func schedule(b buckets, rec record) error {
	rec.State = store.JobPending
	if err := putRecord(b, rec); err != nil {
		return err
	}
	if err := b.due.Put(timeKey(rec.Job.DueAt, rec.Job.Delivery.ID), nil); err != nil {
		return fmt.Errorf("put due %s: %w", rec.Job.Delivery.ID, err)
	}
	return nil
}
