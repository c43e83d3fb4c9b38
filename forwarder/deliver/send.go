package deliver

import (
	"context"
	"fmt"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/failpoint"
	"github.com/callforward/callforward/forwarder/store"
)

// processUnit sends a unit (one job, or a batch for a BatchSender) and
// settles each of its jobs. Every destination goes this way: a sender
// that is not a BatchSender gets units of one job, sent with Send.
func (d *Deliverer) processUnit(ctx context.Context, stop <-chan struct{}, u unit) {
	jobs := d.sendable(ctx, u.jobs)
	if len(jobs) == 0 {
		return
	}
	defer d.held.release(jobs)
	ctx, span := d.traceSend(ctx, jobs)
	defer span.end()
	res := d.send(ctx, jobs)
	d.settleUnit(ctx, stop, jobs, res)
}

// sent is what one send of a unit reported: one classified error (or
// nil) and one receipt per job, index-aligned (receipts only from a
// ReceiptSender), when the send started and how long it took.
type sent struct {
	errs     []error
	receipts []forwarder.Receipt
	at       time.Time
	took     time.Duration
}

// send sends the deliveries of jobs, all of one destination type, in one
// call of their sender bounded by SendTimeout.
func (d *Deliverer) send(ctx context.Context, jobs []store.Job) sent {
	ds := make([]forwarder.Delivery, len(jobs))
	for i, j := range jobs {
		ds[i] = j.Delivery
	}
	typ := ds[0].Type
	s, ok := d.senders[typ]
	if !ok {
		errs := make([]error, len(ds))
		for i := range errs {
			errs[i] = forwarder.Permanent("no_sender", fmt.Errorf("no sender for destination type %q", typ))
		}
		return sent{errs: errs, at: d.cfg.Now()}
	}
	bs, batch := s.(BatchSender)
	rs, receipts := s.(ReceiptSender)
	res := sent{at: d.cfg.Now()}
	start := time.Now()
	sendCtx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	switch {
	case receipts:
		res.errs, res.receipts = rs.SendBatchReceipts(sendCtx, ds)
	case batch:
		res.errs = bs.SendBatch(sendCtx, ds)
	default:
		res.errs = []error{s.Send(sendCtx, ds[0])}
	}
	cancel()
	took := time.Since(start)
	res.took = took
	failpoint.HitOnBatchSuccess(failpoint.AfterSendBeforeCommit, typ, res.errs)
	if batch {
		d.log.DebugContext(ctx, "batch sent", "type", typ, "size", len(ds), "took", took)
		if br, ok := d.cfg.Recorder.(BatchRecorder); ok {
			br.Batch(typ, len(ds))
		}
	}
	return res
}
