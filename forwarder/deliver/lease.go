package deliver

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

// leases are the jobs a Deliverer holds (claimed, not yet settled or
// left to their lease), each with the time its lease is sure to last
// until. It is safe for concurrent use.
type leases struct {
	mu   sync.Mutex
	held map[leaseKey]*holding
	// length is the store's lease as the claims show it (the longest
	// DueAt - now seen right after a Claim, a little under the true
	// lease); 0 until the first claim.
	length time.Duration
	// known is closed once length is known.
	known chan struct{}
}

// leaseKey names one claim of a job.
type leaseKey struct{ id, lease string }

type holding struct {
	job store.Job
	// until is when the lease ends at the earliest: the store's lease end
	// at the claim, then the time before each extension plus its length.
	until time.Time
	// lost is set when the store said the lease is no longer current.
	lost bool
}

func newLeases() *leases {
	return &leases{held: map[leaseKey]*holding{}, known: make(chan struct{})}
}

func keyOf(j store.Job) leaseKey { return leaseKey{j.Delivery.ID, j.Lease} }

// hold records jobs claimed just before now, their lease ending at their
// DueAt.
func (l *leases) hold(jobs []store.Job, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	was := l.length
	for _, j := range jobs {
		l.held[keyOf(j)] = &holding{job: j, until: j.DueAt}
		l.length = max(l.length, j.DueAt.Sub(now))
	}
	if was <= 0 && l.length > 0 {
		close(l.known)
	}
}

// lease returns the length of the store's lease, 0 while unknown.
func (l *leases) lease() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.length
}

// release forgets jobs: they were settled or left to their lease.
func (l *leases) release(jobs []store.Job) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, j := range jobs {
		delete(l.held, keyOf(j))
	}
}

// all returns the jobs held whose leases are not known to be lost.
func (l *leases) all() []store.Job {
	l.mu.Lock()
	defer l.mu.Unlock()
	jobs := make([]store.Job, 0, len(l.held))
	for _, h := range l.held {
		if !h.lost {
			jobs = append(jobs, h.job)
		}
	}
	return jobs
}

// extended records the outcome of extending jobs (errs index-aligned)
// to at least until, and returns how many leases were lost and the first
// other failure.
func (l *leases) extended(jobs []store.Job, errs []error, until time.Time) (lost int, failed error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, j := range jobs {
		h, ok := l.held[keyOf(j)]
		switch {
		case !ok: // settled meanwhile
		case errs[i] == nil:
			h.until = until
		case errors.Is(errs[i], store.ErrLeaseLost):
			h.lost = true
			lost++
		case failed == nil:
			failed = errs[i]
		}
	}
	return lost, failed
}

// split returns the jobs whose leases last past by, and the others (lost,
// ending sooner, or not held at all).
func (l *leases) split(jobs []store.Job, by time.Time) (ok, short []store.Job) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, j := range jobs {
		if h, held := l.held[keyOf(j)]; held && !h.lost && h.until.After(by) {
			ok = append(ok, j)
		} else {
			short = append(short, j)
		}
	}
	return ok, short
}

// keepLeases extends the leases of every job held until ctx is done, at
// least twice in the time a freshly extended job stays sendable (and at
// least every third of a lease), so that held jobs stay sendable while
// the store answers. Run stops it once the last send it started is
// settled.
func (d *Deliverer) keepLeases(ctx context.Context) {
	// Nothing is held before the first claim, which also shows the lease.
	select {
	case <-ctx.Done():
		return
	case <-d.held.known:
	}
	var last time.Time
	for {
		lease := d.held.lease()
		every := min(lease/3, (lease-d.sendMargin(lease))/2)
		wait := max(time.Millisecond, every-time.Since(last))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
			last = time.Now()
			d.extend(ctx, d.held.all())
		}
	}
}

// sendMargin is the lease a job must have left for a send to start
// (store.LeaseMargin).
func (d *Deliverer) sendMargin(lease time.Duration) time.Duration {
	return store.LeaseMargin(d.cfg.SendTimeout, lease)
}

// extend extends the leases of jobs, held by this Deliverer, by a lease.
func (d *Deliverer) extend(ctx context.Context, jobs []store.Job) {
	lease := d.held.lease()
	if len(jobs) == 0 || lease <= 0 {
		return
	}
	until := d.cfg.Now().Add(lease)
	errs := d.q.Extend(ctx, jobs, lease)
	lost, failed := d.held.extended(jobs, errs, until)
	if failed != nil {
		// The jobs keep the leases they had; those that run short are
		// not sent (sendable).
		d.log.ErrorContext(ctx, "extending the leases of held jobs failed", "jobs", len(jobs), "err", failed)
	}
	if lost > 0 {
		d.log.WarnContext(ctx, "leases of held jobs lost; they will not be sent by this holder", "lost", lost)
	}
}

// sendable returns the jobs of a unit whose leases outlast a send started
// now (sendMargin). The leases of the others are extended first, when
// they can be (the keeper may lag behind a busy store); those still too
// short are left to their lease: they are not sent by this holder, and
// come back to whoever claims them next. Recorder sees them as
// lease_lost.
func (d *Deliverer) sendable(ctx context.Context, jobs []store.Job) []store.Job {
	margin := d.sendMargin(d.held.lease())
	ok, short := d.held.split(jobs, d.cfg.Now().Add(margin))
	if len(short) == 0 {
		return ok
	}
	d.extend(ctx, short)
	extended, short := d.held.split(short, d.cfg.Now().Add(margin))
	ok = append(ok, extended...)
	if len(short) == 0 {
		return ok
	}
	d.held.release(short)
	for _, j := range short {
		dl := j.Delivery
		d.log.WarnContext(ctx, "not sent: its lease may end before the send would; left to its lease",
			"call_sid", dl.CallSid, "rule", dl.Rule, "destination", dl.Destination, "attempt", j.Attempts+1)
		d.cfg.Recorder.Delivery(dl, "lease_lost", nil, 0)
	}
	return ok
}
