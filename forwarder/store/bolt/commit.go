package bolt

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// committer runs the store's writes (Accept, Claim, the settlements, kept
// rejects) in as few transactions as it can. A write that arrives while a
// transaction of the committer is running waits for it, then goes into the
// next transaction together with every write that arrived meanwhile (at
// most maxWritesPerTx). Unlike DB.Batch it waits no fixed delay: a lone
// write commits at once, and under load each transaction (one commit)
// takes everything that queued up during the one before, instead of one
// delay's worth of writes per transaction with the rest queued behind the
// write lock.
//
// As with DB.Batch, a write function may run more than once (when another
// write of its transaction fails, each is run again alone), so it must
// set every result it reports anew on each run.
type committer struct {
	db *bbolt.DB
	// recorder, when set, is told about every transaction.
	recorder atomic.Pointer[store.CommitRecorder]

	mu      sync.Mutex
	queue   []*write
	leading bool // a goroutine is committing the queue
}

// RecordCommits makes r hear of every transaction the committer runs from
// now on: how many writes it carried and how long it took, fsync
// included. A transaction that failed and was re-run one write at a time
// counts once, with its whole time.
func (s *Store) RecordCommits(r store.CommitRecorder) { s.commits.recorder.Store(&r) }

// maxWritesPerTx bounds one transaction, so that a burst of writes is
// committed in steps rather than as one transaction the size of the burst.
const maxWritesPerTx = 1000

// write is one write function waiting for its transaction.
type write struct {
	fn   func(*bbolt.Tx) error
	err  error
	done chan struct{}
}

// update runs fn in a read-write transaction shared with the writes that
// queued up with it, and returns fn's error or the commit's.
func (c *committer) update(fn func(*bbolt.Tx) error) error {
	w := &write{fn: fn, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, w)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	if lead {
		c.lead()
	}
	<-w.done
	return w.err
}

// lead commits the queued writes in one transaction. When more writes
// queued up meanwhile, a new goroutine leads their transaction, so that
// the caller returns as soon as its own write is committed.
func (c *committer) lead() {
	c.mu.Lock()
	ws := c.queue
	if len(ws) > maxWritesPerTx {
		ws, c.queue = ws[:maxWritesPerTx:maxWritesPerTx], ws[maxWritesPerTx:]
	} else {
		c.queue = nil
	}
	c.mu.Unlock()
	c.commit(ws)
	c.mu.Lock()
	more := len(c.queue) > 0
	c.leading = more
	c.mu.Unlock()
	if more {
		go c.lead()
	}
}

// commit runs ws in one transaction; when it fails, it runs each write
// alone, so that one failing write does not fail the others.
func (c *committer) commit(ws []*write) {
	if r := c.recorder.Load(); r != nil {
		defer func(start time.Time) { (*r).Commit(len(ws), time.Since(start)) }(time.Now())
	}
	err := c.db.Update(func(tx *bbolt.Tx) error {
		for _, w := range ws {
			if err := w.call(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(ws) > 1 {
		for _, w := range ws {
			w.err = c.db.Update(w.call)
			close(w.done)
		}
		return
	}
	for _, w := range ws {
		w.err = err
		close(w.done)
	}
}

// call runs w's function, turning a panic into an error (as DB.Batch
// does), so that a failing write cannot stop the committer.
func (w *write) call(tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return w.fn(tx)
}
