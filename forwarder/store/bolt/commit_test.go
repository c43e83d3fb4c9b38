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
		queued := len(c.queue)
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
