package deliver

import (
	"context"
	"sync"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Run claims and sends until ctx is done, then lets the sends in flight
// finish and settle (each bounded by SendTimeout) before returning.
//
// Jobs for a BatchSender are gathered per batch key and sent together
// when MaxBatch of them are gathered or the oldest has waited BatchWindow
// (or the lower limits of a BatchLimiter); other jobs are sent one by one.
// At most Workers sends run at once. The leases of the jobs held are kept
// meanwhile (lease.go), until the last of them is settled.
func (d *Deliverer) Run(ctx context.Context) error {
	sem := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	keepCtx, stopKeeping := context.WithCancel(context.WithoutCancel(ctx))
	var keeper sync.WaitGroup
	keeper.Go(func() { d.keepLeases(keepCtx) })
	defer func() {
		wg.Wait()
		stopKeeping()
		keeper.Wait()
	}()
	acc := newAccumulator()
	// dispatch runs a unit on a worker, waiting for one to be free.
	dispatch := func(u unit) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() {
				<-sem
				d.Notify()
			}()
			d.processUnit(context.WithoutCancel(ctx), ctx.Done(), u)
		})
	}
	backoff := d.cfg.PollInterval
	for {
		for _, u := range acc.ready(time.Now()) {
			dispatch(u)
		}
		if free := cap(sem) - len(sem); d.batching && free > 0 && acc.size() >= d.heldBatch*d.cfg.Workers {
			// The claimer holds all the jobs it may: waiting for the
			// batches' windows would leave workers idle while due jobs
			// wait in the store, so the oldest batches go now.
			for _, u := range acc.oldest(free) {
				dispatch(u)
			}
		}
		if ctx.Err() != nil {
			// Claimed jobs are sent rather than left to their lease.
			for _, u := range acc.drain() {
				dispatch(u)
			}
			return nil
		}
		claimed := 0
		var err error
		free, room, limit := 0, 0, 0
		// measure sets free and room, and returns how many jobs the claimer
		// may take now.
		measure := func() int {
			free = cap(sem) - len(sem)
			if d.batching {
				// Jobs held for batches: at most a full batch per worker; held
				// jobs past that count against the idle workers.
				room = d.heldBatch*d.cfg.Workers - acc.size()
			}
			return min(free+room, d.claimMax())
		}
		if d.unsettled.Load() > 0 {
			// Outcomes of earlier sends go to the store first (see unsettled).
			backoff = d.cfg.PollInterval
		} else if measure() > 0 {
			// A busy intake goes first, for at most MaxYield (yield.go);
			// workers may have become free meanwhile.
			if d.yieldToIntake(ctx) > 0 {
				if ctx.Err() != nil {
					continue
				}
				measure()
			}
			limit = min(free+room, d.claimMax())
			var jobs []store.Job
			jobs, err = d.q.Claim(ctx, limit)
			if err != nil && ctx.Err() == nil {
				d.log.ErrorContext(ctx, "claim failed", "err", err)
				// Back off up to 30x the poll interval while the store is down.
				backoff = min(backoff*2, 30*d.cfg.PollInterval)
			} else {
				backoff = d.cfg.PollInterval
			}
			d.held.hold(jobs, d.cfg.Now())
			now := time.Now() // batch windows are real waiting, whatever the store's clock
			for _, j := range jobs {
				if key, ok := d.batchKey(j.Delivery); ok {
					acc.add(key, j, now, d.limits[j.Delivery.Type])
					continue
				}
				dispatch(unit{jobs: []store.Job{j}})
			}
			claimed = len(jobs)
			if err == nil {
				d.heldBatch = d.batchOfHeld(acc, jobs)
			}
		}
		if claimed > 0 && err == nil && claimed == limit {
			continue // there may be more due right now
		}
		wait := backoff
		if next, ok := acc.nextFlush(); ok {
			wait = min(wait, max(time.Millisecond, time.Until(next)))
		}
		select {
		case <-ctx.Done():
		case <-d.wake:
		case <-time.After(wait):
		}
	}
}

// bigClaimQuiet is how long intake must have had no webhook in progress,
// as the claimer saw it, before a claim may take more than MaxClaim.
const bigClaimQuiet = time.Second

// claimMax returns how many jobs one claim may take: Config.MaxClaim, or,
// with Config.WholeBatchClaims, when some sender's batches hold more than
// that (Google Ads: 2,000) and the claimer has seen no webhook in progress for bigClaimQuiet, a full
// batch of the largest. Every claim is one store transaction with its
// commit, whatever its size, and a backlog of large batches drains as
// fast as the store commits: claiming a batch's worth at once takes a
// quarter of the commits of claiming it in MaxClaim steps. But a webhook
// arriving meanwhile waits for the whole transaction, so claims stay at
// MaxClaim while intake is at work and for a second after: a drain with
// no traffic (a backlog after an outage, a restart) takes full batches,
// a drain between webhooks does not. It runs on the claimer's goroutine
// only.
func (d *Deliverer) claimMax() int {
	if !d.cfg.WholeBatchClaims || !d.batching || d.heldBatch <= d.cfg.MaxClaim {
		return d.cfg.MaxClaim
	}
	if d.cfg.Intake != nil {
		now := time.Now()
		if d.cfg.Intake.InFlight() > 0 {
			d.intakeSeen = now
		}
		if !d.intakeSeen.IsZero() && now.Sub(d.intakeSeen) < bigClaimQuiet {
			return d.cfg.MaxClaim
		}
	}
	return d.heldBatch
}

// batchKey returns the batch a delivery belongs to, when its sender sends
// batches.
func (d *Deliverer) batchKey(dl forwarder.Delivery) (string, bool) {
	bs, ok := d.senders[dl.Type].(BatchSender)
	if !ok {
		return "", false
	}
	return dl.Type + "\x00" + bs.BatchKey(dl), true
}

// batchOfHeld returns the largest batch of the jobs acc holds and of jobs,
// the jobs just claimed (a job of a sender that does not batch counts as a
// batch of one); maxBatch when both are empty.
func (d *Deliverer) batchOfHeld(acc *accumulator, jobs []store.Job) int {
	if len(jobs) == 0 && acc.size() == 0 {
		return d.maxBatch
	}
	n := max(1, acc.largestBatch())
	for _, j := range jobs {
		if lim, ok := d.limits[j.Delivery.Type]; ok {
			n = max(n, lim.max)
		}
	}
	return n
}
