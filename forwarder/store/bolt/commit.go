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
// next transaction together with writes that arrived meanwhile. Unlike
// DB.Batch it waits no fixed delay: a lone write commits at once, and
// under load each transaction (one commit) takes what queued up during the
// one before, instead of one delay's worth of writes per transaction with
// the rest queued behind the write lock.
//
// Intake comes first. The writes of intake (Accept, Reject: a webhook's
// reply waits for them) and those of the queue (claims, settlements,
// lease extensions, polls: only the delivery workers wait for them) queue
// apart. Each transaction takes every intake write waiting (at most
// maxWritesPerTx), then queue writes, oldest first, while the nodes the
// transaction has dirtied stay under a budget: maxQueueNodes while intake
// is flowing (an intake write was queued less than intakeQuiet ago),
// maxIdleNodes otherwise. The budget keeps both the transaction an accept
// rides in and the one it may find running short, since a commit's time
// grows with the pages it writes. While intake is flowing, a transaction
// of queue writes alone waits up to queueLinger for an intake write to
// ride with (linger), so that an accept seldom finds such a transaction
// running. Every transaction takes at least one queue write when one
// waits, so the queue is never starved: a queue write with k writes ahead
// of it commits within k+1 transactions (each at most queueLinger late).
//
// As with DB.Batch, a write function may run more than once (when another
// write of its transaction fails, each is run again alone), so it must
// set every result it reports anew on each run.
type committer struct {
	db *bbolt.DB
	// recorder, when set, is told about every transaction.
	recorder atomic.Pointer[store.CommitRecorder]
	// fifo, when set, queues every write in one queue and takes it in
	// arrival order with no node budget: the committer as it was before
	// intake came first. Only the benchmark that compares the two sets it.
	fifo bool

	mu sync.Mutex
	// intake and queue are the writes waiting, oldest first.
	intake, queue []*write
	// lastIntake is when the latest intake write was queued.
	lastIntake time.Time
	// wake, when not nil, is closed by the next intake write queued: a
	// leader lingers for it (linger).
	wake chan struct{}
	// lingerFor, when not zero, replaces queueLinger (for tests).
	lingerFor time.Duration
	leading   bool // a goroutine is committing the queues
	// wrote gets a value, when it has room, after every transaction: it
	// wakes the keeper of the mapped pages (mapped.go).
	wrote chan struct{}
}

// RecordCommits makes r hear of every transaction the committer runs from
// now on: how many writes it carried and how long it took, fsync
// included. A transaction that failed and was re-run one write at a time
// counts once, with its whole time.
func (s *Store) RecordCommits(r store.CommitRecorder) { s.commits.recorder.Store(&r) }

const (
	// maxWritesPerTx bounds one transaction, so that a burst of writes is
	// committed in steps rather than as one transaction the size of the
	// burst.
	maxWritesPerTx = 1000
	// maxQueueNodes bounds the B-tree nodes (about one page each) that
	// the queue's writes may dirty in a transaction while intake is
	// flowing; the first queue write of a transaction is taken whatever
	// its size.
	maxQueueNodes = 96
	// maxIdleNodes is the same bound while no intake is flowing: larger,
	// so that a drain commits in fewer transactions, and still bounded,
	// so that the first accept after a quiet spell finds no long
	// transaction running.
	maxIdleNodes = 2048
	// intakeQuiet is how long after the latest intake write the queue's
	// writes keep the budget of flowing intake, and linger for the next.
	intakeQuiet = time.Second
	// queueLinger is the longest a transaction of queue writes alone is
	// held back, while intake is flowing, for an intake write to ride
	// with: longer than the gap between a webhook's reply and the next
	// request of a client, shorter than a commit.
	queueLinger = 2 * time.Millisecond
)

// write is one write function waiting for its transaction.
type write struct {
	fn   func(*bbolt.Tx) error
	err  error
	done chan struct{}
}

// update runs fn, a write of the queue (claims, settlements, extensions,
// polls), in a read-write transaction shared with other writes, and
// returns fn's error or the commit's.
func (c *committer) update(fn func(*bbolt.Tx) error) error {
	return c.enqueue(fn, false)
}

// updateIntake runs fn, a write of intake (Accept, Reject), as update
// does, ahead of every queue write waiting.
func (c *committer) updateIntake(fn func(*bbolt.Tx) error) error {
	return c.enqueue(fn, true)
}

// enqueue queues fn, leads a transaction when none is running, and waits
// for fn's transaction to commit.
func (c *committer) enqueue(fn func(*bbolt.Tx) error, intake bool) error {
	w := &write{fn: fn, done: make(chan struct{})}
	c.mu.Lock()
	if intake && !c.fifo {
		c.intake = append(c.intake, w)
		c.lastIntake = time.Now()
		if c.wake != nil {
			close(c.wake)
			c.wake = nil
		}
	} else {
		c.queue = append(c.queue, w)
	}
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	if lead {
		c.lead()
	}
	<-w.done
	return w.err
}

// lead commits one transaction of queued writes. When more writes queued
// up meanwhile, a new goroutine leads their transaction, so that the
// caller returns as soon as its own write is committed.
func (c *committer) lead() {
	c.linger()
	c.commit()
	c.mu.Lock()
	more := len(c.intake)+len(c.queue) > 0
	c.leading = more
	c.mu.Unlock()
	if more {
		go c.lead()
	}
}

// linger holds a transaction of queue writes alone back while intake is
// flowing: it waits up to queueLinger for an intake write, so that the
// queue's writes ride in the intake write's transaction rather than in one
// of their own that the intake write would have to wait for.
func (c *committer) linger() {
	if c.fifo {
		return
	}
	c.mu.Lock()
	var wake chan struct{}
	if len(c.intake) == 0 && time.Since(c.lastIntake) < intakeQuiet {
		wake = make(chan struct{})
		c.wake = wake
	}
	c.mu.Unlock()
	if wake == nil {
		return
	}
	d := queueLinger
	if c.lingerFor > 0 {
		d = c.lingerFor
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wake:
	case <-t.C:
		c.mu.Lock()
		c.wake = nil
		c.mu.Unlock()
	}
}

// take takes the writes a transaction starts with: the intake writes
// waiting, then the oldest queue write, which every transaction takes
// whatever its size (the intake writes leave it room). It returns how
// many of them are intake writes, and how many queue writes wait besides
// (only those may join the transaction: a write arriving while it runs
// waits for the next).
func (c *committer) take() (ws []*write, intake, queued int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := maxWritesPerTx
	if len(c.queue) > 0 {
		limit--
	}
	ws = c.intake
	if len(ws) > limit {
		ws, c.intake = ws[:limit:limit], ws[limit:]
	} else {
		c.intake = nil
	}
	intake = len(ws)
	if len(c.queue) > 0 {
		ws = append(ws, c.popQueue())
	}
	return ws, intake, len(c.queue)
}

// nextQueued takes the oldest queue write when the transaction, holding
// taken writes, has room for it: while the nodes its queue writes
// dirtied are under the budget.
func (c *committer) nextQueued(taken int, nodes int64) *write {
	c.mu.Lock()
	defer c.mu.Unlock()
	if taken >= maxWritesPerTx {
		return nil
	}
	if !c.fifo {
		budget := int64(maxIdleNodes)
		if time.Since(c.lastIntake) < intakeQuiet {
			budget = maxQueueNodes
		}
		if nodes >= budget {
			return nil
		}
	}
	return c.popQueue()
}

// popQueue takes the oldest queue write; c.mu is held.
func (c *committer) popQueue() *write {
	w := c.queue[0]
	c.queue[0] = nil
	c.queue = c.queue[1:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return w
}

// commit runs one transaction: the intake writes waiting, then queue
// writes within the budget (see committer). When it fails, it runs each
// of its writes alone, so that one failing write does not fail the
// others.
func (c *committer) commit() {
	start := time.Now()
	ws, intake, queued := c.take()
	err := c.db.Update(func(tx *bbolt.Tx) error {
		var queueFrom int64 // the nodes dirtied before the queue's writes
		for i, w := range ws {
			if i == intake {
				queueFrom = dirtied(tx)
			}
			if err := w.call(tx); err != nil {
				return err
			}
		}
		for ; queued > 0; queued-- {
			w := c.nextQueued(len(ws), dirtied(tx)-queueFrom)
			if w == nil {
				return nil
			}
			ws = append(ws, w)
			if err := w.call(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(ws) > 1 {
		for _, w := range ws {
			w.err = c.db.Update(w.call)
		}
	} else {
		for _, w := range ws {
			w.err = err
		}
	}
	if r := c.recorder.Load(); r != nil {
		(*r).Commit(len(ws), time.Since(start))
	}
	for _, w := range ws {
		close(w.done)
	}
	select {
	case c.wrote <- struct{}{}:
	default:
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

// dirtied returns the B-tree nodes tx has opened for writing so far (each
// becomes at least one page written at commit).
func dirtied(tx *bbolt.Tx) int64 {
	st := tx.Stats()
	return st.GetNodeCount()
}
