// Package deliver runs the delivery workers: claim due jobs from the store,
// send each through the sender for its destination type, and settle the
// job by what the sender reported (Ack, Retry, Bury).
//
// Senders only classify failures (forwarder.Permanent, Transient,
// RetryAfter); Policy alone decides about retries. Settling happens after
// the send, so a crash between a send and its settlement causes the job to
// be sent again when its lease ends: delivery is at least once, and the
// duplicate window is that gap. Senders pass stable ids (transaction ids,
// order ids) where Google dedups on them, to close the window.
//
// When the store cannot record an outcome (it is down), the worker keeps
// trying, and the claimer takes no new jobs until every such outcome is
// recorded: a job whose lease ran out during the outage is acknowledged
// rather than claimed and sent again by the same instance.
//
// The claimer claims about as many single jobs as there are idle
// workers, so few jobs wait under a lease in memory; jobs for batch
// senders wait at most BatchWindow (or their sender's shorter window, see
// BatchLimiter), far below any sane lease. The claimer holds at most a
// full batch per worker: when it holds that many, the oldest batches go
// to the idle workers before their windows end, so a backlog of small
// batches (one per client id, say) drains at the workers' pace rather
// than one claim-ahead's worth per window.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/failpoint"
	"github.com/callforward/callforward/forwarder/store"
)

// Queue is the part of the store the workers use.
type Queue interface {
	Claim(ctx context.Context, max int) ([]store.Job, error)
	Ack(ctx context.Context, j store.Job) error
	Retry(ctx context.Context, j store.Job, at time.Time, reason string) error
	Bury(ctx context.Context, j store.Job, reason, code string) error
}

// BatchAcker is implemented by a Queue that acknowledges many jobs in one
// store operation; the jobs of a batch that Google accepted are
// acknowledged with it, and a failure of the operation is retried like a
// failed Ack. It is store.BatchAcker, declared once with the store's
// contract, which every backend asserts it has.
type BatchAcker = store.BatchAcker

// Sender sends one delivery and classifies its failure.
type Sender interface {
	Send(ctx context.Context, d forwarder.Delivery) error
}

// BatchSender is a Sender that can also send many deliveries in one
// request. Deliveries with equal BatchKey may share a request; SendBatch
// returns one classified error (or nil) per delivery, index-aligned.
type BatchSender interface {
	Sender
	BatchKey(d forwarder.Delivery) string
	SendBatch(ctx context.Context, ds []forwarder.Delivery) []error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, d forwarder.Delivery) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, d forwarder.Delivery) error { return f(ctx, d) }

// Recorder is told about every settled send (metrics implement it).
// outcome is delivered, retry, dead or lease_lost; took is the send's
// duration (0 when nothing was sent).
type Recorder interface {
	Delivery(d forwarder.Delivery, outcome string, err error, took time.Duration)
}

// BatchRecorder is implemented by a Recorder that also wants the size of
// every batch sent through a BatchSender (typ is the destination type).
type BatchRecorder interface {
	Batch(typ string, size int)
}

type nopRecorder struct{}

func (nopRecorder) Delivery(forwarder.Delivery, string, error, time.Duration) {}

// Config tunes the workers. Zero values take the defaults.
type Config struct {
	Workers      int           // concurrent sends (default 4)
	PollInterval time.Duration // wait when nothing is due (default 250ms)
	SendTimeout  time.Duration // per send (default 30s); must be below the store lease
	// SettleRetry bounds how long a worker keeps trying to record a send's
	// outcome while the store is unreachable (default 1m). Recording it
	// late is far better than giving up: an unrecorded send is sent again
	// once its lease ends.
	SettleRetry time.Duration
	// MaxBatch bounds the deliveries of one batch (default 2000, Google
	// Ads' limit); BatchWindow is how long the first delivery of a batch
	// waits for companions (default 1s). A BatchLimiter lowers both for
	// its own batches.
	MaxBatch    int
	BatchWindow time.Duration
	// MaxClaim bounds the jobs claimed in one round (default 500).
	MaxClaim int
	Policy   Policy
	Now      func() time.Time
	Logger   *slog.Logger
	Recorder Recorder // default: records nothing
	// TracerProvider, when set, traces each send or batch send (trace.go);
	// nil turns tracing off.
	TracerProvider trace.TracerProvider
}

// Deliverer is the worker pool.
type Deliverer struct {
	q        Queue
	senders  map[string]Sender
	cfg      Config
	wake     chan struct{}
	log      *slog.Logger
	batching bool // some sender is a BatchSender
	// limits are the batch limits of each BatchSender, by destination type;
	// maxBatch is the largest of their maximums.
	limits   map[string]limits
	maxBatch int
	// tracer is nil when tracing is off.
	tracer trace.Tracer
	// unsettled counts sends whose outcome the store could not record yet.
	// While it is above zero the claimer takes no new jobs: when the store
	// comes back, those outcomes are recorded before anything is claimed,
	// so a job whose lease ran out during the outage is not taken again
	// and sent a second time by this instance.
	unsettled atomic.Int64
}

// New returns a Deliverer sending each delivery through senders[d.Type].
func New(q Queue, senders map[string]Sender, cfg Config) *Deliverer {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 250 * time.Millisecond
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 30 * time.Second
	}
	if cfg.SettleRetry <= 0 {
		cfg.SettleRetry = time.Minute
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 2000
	}
	if cfg.BatchWindow <= 0 {
		cfg.BatchWindow = time.Second
	}
	if cfg.MaxClaim <= 0 {
		cfg.MaxClaim = 500
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Recorder == nil {
		cfg.Recorder = nopRecorder{}
	}
	cfg.Policy = cfg.Policy.withDefaults()
	d := &Deliverer{q: q, senders: senders, cfg: cfg, wake: make(chan struct{}, 1), log: cfg.Logger}
	if cfg.TracerProvider != nil {
		d.tracer = cfg.TracerProvider.Tracer(tracerName)
	}
	d.limits = map[string]limits{}
	for typ, s := range senders {
		if _, ok := s.(BatchSender); ok {
			d.batching = true
			d.limits[typ] = batchLimits(s, cfg)
			d.maxBatch = max(d.maxBatch, d.limits[typ].max)
		}
	}
	return d
}

// Notify wakes an idle claimer: new work was stored. It never blocks.
func (d *Deliverer) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run claims and sends until ctx is done, then lets the sends in flight
// finish and settle (each bounded by SendTimeout) before returning.
//
// Jobs for a BatchSender are gathered per batch key and sent together
// when MaxBatch of them are gathered or the oldest has waited BatchWindow
// (or the lower limits of a BatchLimiter); other jobs are sent one by one.
// At most Workers sends run at once.
func (d *Deliverer) Run(ctx context.Context) error {
	sem := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
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
		if free := cap(sem) - len(sem); d.batching && free > 0 && acc.size() >= d.maxBatch*d.cfg.Workers {
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
		free := cap(sem) - len(sem)
		room := 0
		if d.batching {
			// Jobs held for batches: at most a full batch per worker; held
			// jobs past that count against the idle workers.
			room = d.maxBatch*d.cfg.Workers - acc.size()
		}
		if d.unsettled.Load() > 0 {
			// Outcomes of earlier sends go to the store first (see unsettled).
			backoff = d.cfg.PollInterval
		} else if limit := min(free+room, d.cfg.MaxClaim); limit > 0 {
			var jobs []store.Job
			jobs, err = d.q.Claim(ctx, limit)
			if err != nil && ctx.Err() == nil {
				d.log.ErrorContext(ctx, "claim failed", "err", err)
				// Back off up to 30x the poll interval while the store is down.
				backoff = min(backoff*2, 30*d.cfg.PollInterval)
			} else {
				backoff = d.cfg.PollInterval
			}
			now := time.Now() // batch windows are real waiting, whatever the store's clock
			for _, j := range jobs {
				if key, ok := d.batchKey(j.Delivery); ok {
					acc.add(key, j, now, d.limits[j.Delivery.Type])
					continue
				}
				dispatch(unit{jobs: []store.Job{j}})
			}
			claimed = len(jobs)
		}
		if claimed > 0 && err == nil && claimed == min(free+room, d.cfg.MaxClaim) {
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

// batchKey returns the batch a delivery belongs to, when its sender sends
// batches.
func (d *Deliverer) batchKey(dl forwarder.Delivery) (string, bool) {
	bs, ok := d.senders[dl.Type].(BatchSender)
	if !ok {
		return "", false
	}
	return dl.Type + "\x00" + bs.BatchKey(dl), true
}

// processUnit sends a unit (one job, or a batch for a BatchSender) and
// settles each of its jobs.
func (d *Deliverer) processUnit(ctx context.Context, stop <-chan struct{}, u unit) {
	ctx, span := d.traceSend(ctx, u.jobs)
	defer span.end()
	if len(u.jobs) == 1 {
		if _, batch := d.batchKey(u.jobs[0].Delivery); !batch {
			d.process(ctx, stop, u.jobs[0])
			return
		}
	}
	bs := d.senders[u.jobs[0].Delivery.Type].(BatchSender)
	ds := make([]forwarder.Delivery, len(u.jobs))
	for i, j := range u.jobs {
		ds[i] = j.Delivery
	}
	start := time.Now()
	sendCtx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	errs := bs.SendBatch(sendCtx, ds)
	cancel()
	took := time.Since(start)
	failpoint.HitOnBatchSuccess(failpoint.AfterSendBeforeCommit, ds[0].Type, errs)
	d.log.DebugContext(ctx, "batch sent", "type", ds[0].Type, "size", len(ds), "took", took)
	if br, ok := d.cfg.Recorder.(BatchRecorder); ok {
		br.Batch(ds[0].Type, len(ds))
	}
	// Settle concurrently: the store groups concurrent writes (one fsync
	// for many in bbolt, pipelined scripts in Redis). The delivered jobs
	// go in one AckMany when the store has it.
	acker, _ := d.q.(BatchAcker)
	var acks []store.Job
	var wg sync.WaitGroup
	sem := make(chan struct{}, settleConcurrency)
	for i, j := range u.jobs {
		var err error
		if i < len(errs) {
			err = errs[i]
		} else {
			err = forwarder.Transient("no_result", errors.New("the batch sender returned no result for this delivery"))
		}
		failpoint.HitOnSuccess(failpoint.MidBatch, j.Delivery.Type, err)
		if err == nil && acker != nil {
			acks = append(acks, j)
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d.settleJob(ctx, stop, j, err, took)
		})
	}
	if len(acks) > 0 {
		d.ackBatch(ctx, stop, acker, acks, took)
	}
	wg.Wait()
}

// ackBatch records that the jobs of a batch were delivered, in one
// AckMany; the jobs the store could not record are tried again as
// settleJob does, together.
func (d *Deliverer) ackBatch(ctx context.Context, stop <-chan struct{}, acker BatchAcker, jobs []store.Job, took time.Duration) {
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
		res := acker.AckMany(ctx, batch)
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

// settleConcurrency bounds the concurrent settles of one batch.
const settleConcurrency = 64

// process sends one job and settles it. ctx is not cancelled by shutdown:
// a send that started is finished (within SendTimeout) and settled. When
// the store cannot record the outcome, process tries again with backoff
// for up to SettleRetry, or until stop closes (shutdown).
func (d *Deliverer) process(ctx context.Context, stop <-chan struct{}, j store.Job) {
	dl := j.Delivery
	s, ok := d.senders[dl.Type]
	var err error
	var took time.Duration
	if !ok {
		err = forwarder.Permanent("no_sender", fmt.Errorf("no sender for destination type %q", dl.Type))
	} else {
		start := time.Now()
		sendCtx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
		err = s.Send(sendCtx, dl)
		cancel()
		took = time.Since(start)
		failpoint.HitOnSuccess(failpoint.AfterSendBeforeCommit, dl.Type, err)
	}
	d.settleJob(ctx, stop, j, err, took)
}

// settleJob records the outcome of one send of j: Ack, Retry or Bury.
func (d *Deliverer) settleJob(ctx context.Context, stop <-chan struct{}, j store.Job, err error, took time.Duration) {
	dl := j.Delivery
	log := d.log.With("call_sid", dl.CallSid, "rule", dl.Rule, "destination", dl.Destination, "attempt", j.Attempts+1)
	outcome := "delivered"
	settle := func() error {
		if err == nil {
			log.InfoContext(ctx, "delivered")
			return d.q.Ack(ctx, j)
		}
		dec := d.cfg.Policy.Decide(err, j.Attempts, d.cfg.Now())
		if dec.Bury {
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
