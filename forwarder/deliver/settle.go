package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/failpoint"
	"github.com/callforward/callforward/forwarder/store"
)

// settleConcurrency bounds the concurrent settles of one unit.
const settleConcurrency = 64

// settleUnit records the outcome of each job of a unit (a missing result
// counts as a transient failure), with the attempt in each job's history.
// Settles run concurrently: the store groups concurrent writes (one fsync
// for many in bbolt, pipelined scripts in Redis). The delivered jobs go
// in one AckMany when the store has it, or, when they carry a receipt and
// the store keeps diagnostics, in one AckPolled per request id.
func (d *Deliverer) settleUnit(ctx context.Context, stop <-chan struct{}, jobs []store.Job, res sent) {
	acker, _ := d.q.(BatchAcker)
	diag, _ := d.q.(store.Diagnostics)
	var acks []store.Job
	polled := map[string]*polledRequest{}
	var requests []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, settleConcurrency)
	for i, j := range jobs {
		var err error
		if i < len(res.errs) {
			err = res.errs[i]
		} else {
			err = forwarder.Transient("no_result", errors.New("the batch sender returned no result for this delivery"))
		}
		var rec forwarder.Receipt
		if err == nil && i < len(res.receipts) {
			rec = res.receipts[i]
		}
		failpoint.HitOnSuccess(failpoint.MidBatch, j.Delivery.Type, err)
		if err == nil {
			j.History = store.AppendAttempt(j.History, store.Attempt{At: res.at, Took: res.took, Result: store.AttemptDelivered, RequestID: rec.RequestID})
		}
		switch {
		case err == nil && rec.RequestID != "" && diag != nil:
			r, ok := polled[rec.RequestID]
			if !ok {
				r = &polledRequest{poll: d.newPoll(rec.RequestID, res)}
				polled[rec.RequestID] = r
				requests = append(requests, rec.RequestID)
			}
			r.poll.Items = append(r.poll.Items, store.PollItem{DeliveryID: j.Delivery.ID, Index: rec.Index, Dest: rec.Dest})
			r.jobs = append(r.jobs, j)
			continue
		case err == nil && acker != nil:
			acks = append(acks, j)
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d.settleJob(ctx, stop, j, err, res)
		})
	}
	if len(acks) > 0 {
		d.ackBatch(ctx, stop, acker.AckMany, acks, res.took)
	}
	for _, id := range requests {
		r := polled[id]
		d.ackBatch(ctx, stop, func(ctx context.Context, jobs []store.Job) []error {
			r.poll.Items = keepItems(r.poll.Items, jobs)
			return diag.AckPolled(ctx, jobs, r.poll)
		}, r.jobs, res.took)
	}
	wg.Wait()
}

// polledRequest is an accepted request of a unit: the jobs it carried,
// acknowledged together with the poll that will ask Google about them.
type polledRequest struct {
	poll store.Poll
	jobs []store.Job
}

// newPoll is the pending poll of request id, without items, due at the
// first poll of the Diagnostics schedule after Google accepted it.
func (d *Deliverer) newPoll(id string, res sent) store.Poll {
	sentAt := res.at.Add(res.took)
	due, _ := d.cfg.Diagnostics.Next(sentAt, sentAt, 0)
	return store.Poll{RequestID: id, SentAt: sentAt, DueAt: due}
}

// keepItems returns the items of the deliveries of jobs.
func keepItems(items []store.PollItem, jobs []store.Job) []store.PollItem {
	if len(items) == len(jobs) {
		return items
	}
	out := make([]store.PollItem, 0, len(jobs))
	for _, it := range items {
		if slices.ContainsFunc(jobs, func(j store.Job) bool { return j.Delivery.ID == it.DeliveryID }) {
			out = append(out, it)
		}
	}
	return out
}

// ackBatch records that the jobs of a batch were delivered, in one call
// of ack (AckMany, or AckPolled); the jobs the store could not record are
// tried again as settleJob does, together.
func (d *Deliverer) ackBatch(ctx context.Context, stop <-chan struct{}, ack func(context.Context, []store.Job) []error, jobs []store.Job, took time.Duration) {
	log := d.log.With("type", jobs[0].Delivery.Type, "batch_size", len(jobs))
	if d.log.Enabled(ctx, slog.LevelInfo) {
		for _, j := range jobs {
			dl := j.Delivery
			d.log.InfoContext(ctx, "delivered", "call_sid", dl.CallSid, "rule", dl.Rule, "destination", dl.Destination, "attempt", j.Attempts+1)
		}
	}
	errs := make([]error, len(jobs))
	todo := make([]int, len(jobs)) // indexes of the jobs not recorded yet
	for i := range todo {
		todo[i] = i
	}
	settle := func() error {
		batch := make([]store.Job, len(todo))
		for k, i := range todo {
			batch[k] = jobs[i]
		}
		res := ack(ctx, batch)
		var again []int
		var first error
		for k, i := range todo {
			err := fmt.Errorf("ack %s: the store returned no result", jobs[i].Delivery.ID)
			if k < len(res) {
				err = res[k]
			}
			errs[i] = err
			if err != nil && !errors.Is(err, store.ErrLeaseLost) {
				again = append(again, i)
				if first == nil {
					first = err
				}
			}
		}
		todo = again
		return first
	}
	_ = d.settleWithRetry(ctx, stop, settle, log)
	for i, j := range jobs {
		outcome := "delivered"
		if errors.Is(errs[i], store.ErrLeaseLost) {
			outcome = "lease_lost"
			dl := j.Delivery
			d.log.WarnContext(ctx, "lease lost before settling; the job's current holder decides",
				"call_sid", dl.CallSid, "rule", dl.Rule, "destination", dl.Destination, "attempt", j.Attempts+1, "err", errs[i])
		}
		d.cfg.Recorder.Delivery(j.Delivery, outcome, nil, took)
		d.traceSettled(ctx, outcome, nil)
	}
}

// settleJob records the outcome of one send of j: Ack, Retry or Bury.
func (d *Deliverer) settleJob(ctx context.Context, stop <-chan struct{}, j store.Job, err error, res sent) {
	took := res.took
	dl := j.Delivery
	log := d.log.With("call_sid", dl.CallSid, "rule", dl.Rule, "destination", dl.Destination, "attempt", j.Attempts+1)
	outcome := "delivered"
	history := j.History
	settle := func() error {
		if err == nil {
			log.InfoContext(ctx, "delivered")
			return d.q.Ack(ctx, j)
		}
		dec := d.cfg.Policy.Decide(err, j.Attempts, d.cfg.Now())
		a := store.Attempt{At: res.at, Took: took, Result: store.AttemptRetry, Code: dec.Code, Error: dec.Reason}
		if dec.Bury {
			a.Result = store.AttemptDead
		}
		j.History = store.AppendAttempt(history, a)
		if dec.Bury {
			j.Verdict = forwarder.Classify(err).Verdict()
			outcome = "dead"
			log.WarnContext(ctx, "dead-lettered", "reason", dec.Reason, "code", dec.Code)
			return d.q.Bury(ctx, j, dec.Reason, dec.Code)
		}
		outcome = "retry"
		log.InfoContext(ctx, "will retry", "reason", dec.Reason, "code", dec.Code, "at", dec.At)
		return d.q.Retry(ctx, j, dec.At, dec.Reason)
	}
	serr := d.settleWithRetry(ctx, stop, settle, log)
	if errors.Is(serr, store.ErrLeaseLost) {
		outcome = "lease_lost"
	}
	d.cfg.Recorder.Delivery(dl, outcome, err, took)
	d.traceSettled(ctx, outcome, err)
	if errors.Is(serr, store.ErrLeaseLost) {
		log.WarnContext(ctx, "lease lost before settling; the job's current holder decides", "err", serr)
	}
}

// settleWithRetry runs settle until it succeeds, the lease is lost, or
// SettleRetry passes (or stop closes). A job that could not be settled
// stays claimed and comes back when its lease ends.
func (d *Deliverer) settleWithRetry(ctx context.Context, stop <-chan struct{}, settle func() error, log *slog.Logger) error {
	deadline := time.Now().Add(d.cfg.SettleRetry)
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := settle()
		if err == nil || errors.Is(err, store.ErrLeaseLost) {
			if err == nil && attempt > 1 {
				log.InfoContext(ctx, "settled after the store came back", "attempts", attempt)
			}
			return err
		}
		if attempt == 1 {
			log.ErrorContext(ctx, "settle failed; retrying while the store is unreachable", "err", err)
			d.unsettled.Add(1)
			defer func() {
				if d.unsettled.Add(-1) == 0 {
					d.Notify()
				}
			}()
		}
		if time.Now().Add(wait).After(deadline) {
			log.ErrorContext(ctx, "settle failed; the job will come back after its lease", "err", err, "attempts", attempt)
			return err
		}
		select {
		case <-stop:
			log.ErrorContext(ctx, "settle failed at shutdown; the job will come back after its lease", "err", err)
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}
