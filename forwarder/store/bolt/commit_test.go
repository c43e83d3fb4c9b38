package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// TestCommitterGroupsWrites: writes that arrive while a transaction runs
// share the next one; a failing or panicking write fails alone, and the
// others are committed.
func TestCommitterGroupsWrites(t *testing.T) {
	errBad := errors.New("bad write")
	tests := []struct {
		name    string
		fail    map[int]bool // writes that return errBad
		panics  map[int]bool // writes that panic
		maxTxns int          // at most this many transactions hold the good writes
	}{
		{name: "all good", maxTxns: 2},
		{name: "one fails", fail: map[int]bool{7: true}, maxTxns: 2 + 99},
		{name: "one panics", panics: map[int]bool{42: true}, maxTxns: 2 + 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := bbolt.Open(filepath.Join(t.TempDir(), "db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			bucket := []byte("b")
			if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
				t.Fatal(err)
			}
			c := &committer{db: db}

			var mu sync.Mutex
			txns := map[*bbolt.Tx]bool{}
			// The first write holds its transaction until the others queue up.
			release, first := holdCommitter(c, func(tx *bbolt.Tx) error {
				return tx.Bucket(bucket).Put([]byte("first"), nil)
			})
			const n = 100
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					errs[i] = c.update(func(tx *bbolt.Tx) error {
						mu.Lock()
						txns[tx] = true
						mu.Unlock()
						if err := tx.Bucket(bucket).Put(fmt.Appendf(nil, "k%03d", i), nil); err != nil {
							return err
						}
						if tt.panics[i] {
							panic("boom")
						}
						if tt.fail[i] {
							return errBad
						}
						return nil
					})
				})
			}
			waitQueued(t, c, n)
			close(release)
			wg.Wait()
			if err := <-first; err != nil {
				t.Fatalf("first write = %v, want nil", err)
			}
			err = db.View(func(tx *bbolt.Tx) error {
				for i := range n {
					bad := tt.fail[i] || tt.panics[i]
					if bad && errs[i] == nil {
						t.Errorf("write %d = nil, want its failure", i)
					}
					if tt.fail[i] && !errors.Is(errs[i], errBad) {
						t.Errorf("write %d = %v, want %v", i, errs[i], errBad)
					}
					if !bad && errs[i] != nil {
						t.Errorf("write %d = %v, want nil", i, errs[i])
					}
					if stored := tx.Bucket(bucket).Get(fmt.Appendf(nil, "k%03d", i)) != nil; stored == bad {
						t.Errorf("write %d stored: %v, want %v", i, stored, !bad)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(txns) > tt.maxTxns {
				t.Errorf("%d writes ran in %d transactions, want at most %d", n, len(txns), tt.maxTxns)
			}
		})
	}
}

// holdCommitter starts a write of fn through c that holds its transaction
// open until release is closed, and returns once the transaction runs;
// first receives the write's result.
func holdCommitter(c *committer, fn func(*bbolt.Tx) error) (release chan struct{}, first <-chan error) {
	release, held := make(chan struct{}), make(chan struct{})
	res := make(chan error, 1)
	go func() {
		res <- c.update(func(tx *bbolt.Tx) error {
			close(held)
			<-release
			return fn(tx)
		})
	}()
	<-held
	return release, res
}

// waitQueued waits until n writes wait for the committer.
func waitQueued(t *testing.T, c *committer, n int) {
	t.Helper()
	for range 10000 {
		c.mu.Lock()
		queued := len(c.queue) + len(c.intake)
		c.mu.Unlock()
		if queued >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("fewer than %d writes queued", n)
}

// recorded collects what a committer reports.
type recorded struct {
	mu     sync.Mutex
	writes []int
}

func (r *recorded) Commit(writes int, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if took <= 0 {
		writes = -writes // flags a missing duration
	}
	r.writes = append(r.writes, writes)
}

// TestCommitterCapsAndRecords: writes queued during a transaction go into
// the next ones, at most maxWritesPerTx each, and the recorder hears of
// every transaction with its number of writes.
func TestCommitterCapsAndRecords(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	rec := &recorded{}
	s.RecordCommits(rec)
	c := s.commits
	release, first := holdCommitter(c, func(*bbolt.Tx) error { return nil })
	const n = maxWritesPerTx + maxWritesPerTx/2
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if err := c.update(func(*bbolt.Tx) error { return nil }); err != nil {
				t.Errorf("update = %v", err)
			}
		})
	}
	waitQueued(t, c, n)
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []int{1, maxWritesPerTx, maxWritesPerTx / 2}
	if fmt.Sprint(rec.writes) != fmt.Sprint(want) {
		t.Errorf("transactions recorded with %v writes, want %v", rec.writes, want)
	}
}

// spreadBucket returns a database whose bucket "b" holds enough keys to
// span hundreds of leaf pages, so that writes to keys far apart dirty
// nodes of their own, and a committer of it.
func spreadBucket(t *testing.T) (*committer, []byte) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	bucket := []byte("b")
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket(bucket)
		if err != nil {
			return err
		}
		for i := range spreadKeys {
			if err := b.Put(spreadKey(i), make([]byte, 100)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &committer{db: db}, bucket
}

const spreadKeys = 10000

func spreadKey(i int) []byte { return fmt.Appendf(nil, "k%06d", i%spreadKeys) }

// txLog records which transaction each write ran in, by the
// transaction's id (ids grow by one per commit); a write re-run alone
// keeps its last.
type txLog struct {
	mu sync.Mutex
	tx map[string]int
}

func (l *txLog) note(name string, tx *bbolt.Tx) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tx == nil {
		l.tx = map[string]int{}
	}
	l.tx[name] = tx.ID()
}

func (l *txLog) of(t *testing.T, name string) int {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	id, ok := l.tx[name]
	if !ok {
		t.Fatalf("write %s never ran", name)
	}
	return id
}

// settleLike returns the queue write number i: it rewrites keys spread
// keys (each far from the others and from those of the writes next to
// it, as a settlement's job records are, so it dirties at least keys
// leaf nodes) and notes its transaction as name.
func settleLike(l *txLog, bucket []byte, name string, i, keys int) func(*bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
		l.note(name, tx)
		for k := range keys {
			if err := tx.Bucket(bucket).Put(spreadKey(i*211+k*(spreadKeys/keys)), []byte(name)); err != nil {
				return err
			}
		}
		return nil
	}
}

// TestCommitterIntakeFirst: an intake write queued after many queue
// writes commits in the very next transaction, which carries only a
// budget's worth of the queue writes; the rest follow, in order, in the
// transactions after it, and every write is committed.
func TestCommitterIntakeFirst(t *testing.T) {
	tests := []struct {
		name        string
		settles     int // queue writes queued before the intake write
		keys        int // spread keys each rewrites
		wantInFirst int // queue writes at most in the intake write's transaction
	}{
		{name: "many small settles", settles: 200, keys: 4, wantInFirst: maxQueueNodes/4 + 1},
		{name: "few large settles", settles: 20, keys: 200, wantInFirst: 1},
		{name: "one settle", settles: 1, keys: 4, wantInFirst: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, bucket := spreadBucket(t)
			log := &txLog{}
			release, first := holdCommitter(c, func(tx *bbolt.Tx) error {
				log.note("hold", tx)
				return nil
			})
			var wg sync.WaitGroup
			errs := make([]error, tt.settles+1)
			for i := range tt.settles {
				wg.Go(func() {
					errs[i] = c.update(settleLike(log, bucket, fmt.Sprint("settle", i), i, tt.keys))
				})
				waitQueued(t, c, i+1) // in this order
			}
			wg.Go(func() {
				errs[tt.settles] = c.updateIntake(func(tx *bbolt.Tx) error {
					log.note("accept", tx)
					return tx.Bucket(bucket).Put([]byte("accept"), []byte("call"))
				})
			})
			waitQueued(t, c, tt.settles+1)
			close(release)
			wg.Wait()
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			for i, err := range errs {
				if err != nil {
					t.Fatalf("write %d = %v", i, err)
				}
			}
			hold, accept := log.of(t, "hold"), log.of(t, "accept")
			if accept != hold+1 {
				t.Errorf("accept committed in transaction %d, want %d (the first after the running one)", accept, hold+1)
			}
			inFirst, last := 0, accept
			for i := range tt.settles {
				id := log.of(t, fmt.Sprint("settle", i))
				if id < last {
					t.Errorf("settle %d committed in transaction %d, before the settle queued ahead of it (%d)", i, id, last)
				}
				last = id
				if id == accept {
					inFirst++
				}
			}
			if inFirst < 1 || inFirst > tt.wantInFirst {
				t.Errorf("the accept's transaction carried %d settles, want 1 to %d", inFirst, tt.wantInFirst)
			}
			if tt.settles > 1 && inFirst == tt.settles {
				t.Errorf("the accept's transaction carried all %d settles, want the budget to cut it", tt.settles)
			}
			err := c.db.View(func(tx *bbolt.Tx) error {
				if got := string(tx.Bucket(bucket).Get([]byte("accept"))); got != "call" {
					t.Errorf("accept stored %q, want %q", got, "call")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCommitterNoStarvation: while intake keeps arriving (each
// transaction sees a new intake write queued), the queue still moves: each
// transaction carries the intake write and at least one queue write, so
// the queue write with k ahead of it commits in the (k+1)th transaction.
func TestCommitterNoStarvation(t *testing.T) {
	c, bucket := spreadBucket(t)
	log := &txLog{}
	release, first := holdCommitter(c, func(tx *bbolt.Tx) error {
		log.note("hold", tx)
		return nil
	})
	// Each settle is over the budget alone, so each transaction takes
	// exactly the one it must, and each queues the intake write of the
	// next transaction before it commits.
	const settles = 8
	var wg sync.WaitGroup
	intake := func(name string) {
		wg.Go(func() {
			err := c.updateIntake(func(tx *bbolt.Tx) error {
				log.note(name, tx)
				return tx.Bucket(bucket).Put([]byte(name), nil)
			})
			if err != nil {
				t.Errorf("%s = %v", name, err)
			}
		})
	}
	for i := range settles {
		settle := settleLike(log, bucket, fmt.Sprint("settle", i), i, 2*maxQueueNodes)
		wg.Go(func() {
			err := c.update(func(tx *bbolt.Tx) error {
				if err := settle(tx); err != nil {
					return err
				}
				if i < settles-1 {
					c.mu.Lock()
					n := len(c.intake)
					c.mu.Unlock()
					if n == 0 {
						intake(fmt.Sprint("accept", i+1))
						waitIntake(t, c)
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("settle %d = %v", i, err)
			}
		})
		waitQueued(t, c, i+1)
	}
	intake("accept0")
	waitQueued(t, c, settles+1)
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	hold := log.of(t, "hold")
	for i := range settles {
		if got, want := log.of(t, fmt.Sprint("accept", i)), hold+1+i; got != want {
			t.Errorf("accept%d committed in transaction %d, want %d", i, got, want)
		}
		if got, want := log.of(t, fmt.Sprint("settle", i)), hold+1+i; got != want {
			t.Errorf("settle%d committed in transaction %d, want %d", i, got, want)
		}
	}
}

// waitIntake waits until an intake write is queued.
func waitIntake(t *testing.T, c *committer) {
	t.Helper()
	for range 10000 {
		c.mu.Lock()
		n := len(c.intake)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Errorf("no intake write queued")
}

// TestCommitterLinger: while intake is flowing, queue writes with no
// intake write waiting hold their transaction back for one to ride with
// (and commit alone when none comes in time); with no intake flowing they
// commit at once.
func TestCommitterLinger(t *testing.T) {
	t.Run("rides with intake", func(t *testing.T) {
		c, bucket := spreadBucket(t)
		c.lastIntake = time.Now()
		c.lingerFor = time.Hour
		log := &txLog{}
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := c.update(settleLike(log, bucket, "settle", 0, 4)); err != nil {
				t.Errorf("settle = %v", err)
			}
		})
		for lingering := false; !lingering; time.Sleep(time.Millisecond) {
			c.mu.Lock()
			lingering = c.wake != nil
			c.mu.Unlock()
		}
		wg.Go(func() {
			err := c.updateIntake(func(tx *bbolt.Tx) error {
				log.note("accept", tx)
				return tx.Bucket(bucket).Put([]byte("accept"), nil)
			})
			if err != nil {
				t.Errorf("accept = %v", err)
			}
		})
		wg.Wait()
		if settle, accept := log.of(t, "settle"), log.of(t, "accept"); settle != accept {
			t.Errorf("settle committed in transaction %d, accept in %d, want one transaction", settle, accept)
		}
	})
	tests := []struct {
		name      string
		flowing   bool
		linger    time.Duration
		atLeast   time.Duration
		below     time.Duration
		lingering bool
	}{
		{name: "alone when no intake comes", flowing: true, linger: 50 * time.Millisecond, atLeast: 50 * time.Millisecond, below: time.Minute},
		{name: "at once when intake is quiet", flowing: false, linger: time.Hour, below: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, bucket := spreadBucket(t)
			if tt.flowing {
				c.lastIntake = time.Now()
			}
			c.lingerFor = tt.linger
			start := time.Now()
			if err := c.update(settleLike(&txLog{}, bucket, "settle", 0, 4)); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < tt.atLeast || took >= tt.below {
				t.Errorf("settle took %v, want from %v to below %v", took, tt.atLeast, tt.below)
			}
		})
	}
}
