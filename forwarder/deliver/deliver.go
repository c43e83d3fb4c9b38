// Package deliver runs the delivery workers: claim due jobs from the store,
// send each through the sender for its destination type, and settle the
// job by what the sender reported (Ack, Retry, Bury). Each stage has its
// file: claim.go (the claimer, which gathers batches: batch.go), lease.go
// (keeping the leases of the jobs held), send.go (one send path for every
// destination), settle.go (recording outcomes).
//
// Senders only classify failures (forwarder.Permanent, Transient,
// RetryAfter); Policy alone decides about retries. Settling happens after
// the send, so a crash between a send and its settlement causes the job to
// be sent again when its lease ends: delivery is at least once, and the
// duplicate window is that gap. Senders pass stable ids (transaction ids,
// order ids) where Google dedups on them, to close the window.
//
// A job is sent only by a holder whose lease is sure to outlast the send:
// claimed jobs may wait in memory (gathered for a batch, or for a free
// worker while Google is slow) longer than the store's lease, so the
// Deliverer extends the leases of every job it holds, every third of a
// lease, and checks before each send that the job's lease ends after the
// send timeout and a margin of a tenth of a lease. The lease is the
// store's: the Deliverer learns its length from the jobs it claims. A job
// that fails the check (its lease could not be extended, or was taken
// over) is not sent: it is left to its lease, and whoever claims it next
// sends it.
//
// Every settlement adds the attempt to the job's history (when, how long,
// the result, Google's code and answer, the request id). A ReceiptSender
// tells which accepted request carried each delivery: those deliveries
// are acknowledged with store.Diagnostics.AckPolled, in the same step as
// the poll that will ask Google how it processed them (package diagnose).
//
// When the store cannot record an outcome (it is down), the worker keeps
// trying, and the claimer takes no new jobs until every such outcome is
// recorded: a job whose lease ran out during the outage is acknowledged
// rather than claimed and sent again by the same instance.
//
// The claimer claims about as many single jobs as there are idle
// workers, so few jobs wait under a lease in memory; jobs for batch
// senders are gathered for at most BatchWindow (or their sender's shorter
// window, see BatchLimiter), then wait for a free worker, which takes
// longer than a lease when Google is slow (hence the lease keeping
// above). The claimer holds at most a full batch per worker: when it holds that many, the oldest batches go
// to the idle workers before their windows end, so a backlog of small
// batches (one per client id, say) drains at the workers' pace rather
// than one claim-ahead's worth per window. Each claim is one store
// transaction: on a store only this process writes to (WholeBatchClaims),
// once intake has been quiet for a second, a claim takes up to a full batch
// of the largest batches among the jobs held or last claimed (Google Ads:
// 2,000) rather than MaxClaim, so that a backlog of large batches costs a
// commit per batch, not per MaxClaim jobs; a backlog of small batches (GA4:
// 25) is claimed and held by their measure, whatever other senders batch.
//
// Delivery yields to intake (yield.go): on a small machine the claims,
// encodings and settlements compete with the webhooks for the same
// cores, and a webhook is someone waiting for an answer while a delivery
// can be a moment late. With Config.Intake set, the claimer waits before
// each claim while intake is busy, at most Config.MaxYield: under a
// sustained burst the claimer still claims at least once per MaxYield
// (plus the round's own time), each claim taking as many jobs as before
// (up to a full batch per worker), so a backlog keeps draining, at a
// lower rate, and nothing waits longer than MaxYield per claim for it.
package deliver

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/diagnose"
	"github.com/callforward/callforward/forwarder/store"
)

// Queue is the part of the store the workers use.
type Queue interface {
	Claim(ctx context.Context, max int) ([]store.Job, error)
	Ack(ctx context.Context, j store.Job) error
	Retry(ctx context.Context, j store.Job, at time.Time, reason string) error
	Bury(ctx context.Context, j store.Job, reason, code string) error
	// Extend keeps the claims of jobs for d more, returning one error per
	// job, index-aligned: nil, an error wrapping store.ErrLeaseLost, or
	// the failure of the operation. The workers call it for every job
	// they hold, every third of a lease.
	Extend(ctx context.Context, jobs []store.Job, d time.Duration) []error
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

// ReceiptSender is a BatchSender whose destination processes what it
// accepted later and reports on it (Data Manager): SendBatchReceipts is
// SendBatch that also returns one receipt per delivery, index-aligned,
// the zero Receipt where there is nothing to ask about. When the Queue is
// a store.Diagnostics, the delivered jobs with a receipt are acknowledged
// with AckPolled, which records the poll that asks Google about them.
type ReceiptSender interface {
	BatchSender
	SendBatchReceipts(ctx context.Context, ds []forwarder.Delivery) ([]error, []forwarder.Receipt)
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, d forwarder.Delivery) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, d forwarder.Delivery) error { return f(ctx, d) }

// Recorder is told about every settled send (metrics implement it).
// outcome is delivered, retry, dead or lease_lost (the lease was lost
// before the settle, or the job was left unsent to a lease too short for
// a send); took is the send's duration (0 when nothing was sent).
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
	// MaxClaim bounds the jobs claimed in one round (default 500). With
	// WholeBatchClaims, once intake has had no webhook in progress for a
	// second, a claim may take up to a full batch of the largest batches
	// among the jobs held or last claimed (see MaxBatch and BatchLimiter)
	// when that is more.
	MaxClaim int
	// WholeBatchClaims lets a claim take a full batch when intake is quiet
	// (see MaxClaim). Set it only when Intake sees every webhook the store
	// takes, as with the embedded store (one process per store): with a
	// shared store (Redis), other instances' webhooks are not seen, and a
	// claim of a full batch would hold the store from them.
	WholeBatchClaims bool
	// Intake, when set, makes the claimer yield to a busy intake: before
	// each claim it waits while Intake reports at least YieldAt webhooks in
	// progress (default DefaultYieldAt), but never more than MaxYield
	// (default DefaultMaxYield) per claim, so delivery slows down under a
	// burst of webhooks and never stops. A negative YieldAt turns it off.
	Intake   Intake
	YieldAt  int
	MaxYield time.Duration
	// Diagnostics is the schedule on which the processing of a
	// ReceiptSender's accepted request is asked about; its first poll is
	// due at Diagnostics.Next (zero fields take diagnose's defaults).
	Diagnostics diagnose.Schedule
	Policy      Policy
	Now         func() time.Time // the store's clock (default time.Now): retries and lease ends
	Logger      *slog.Logger
	Recorder    Recorder // default: records nothing
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
	// heldBatch is the largest batch of the jobs the claimer holds or
	// last claimed (maxBatch before the first claim and after one that
	// found nothing): it bounds what the claimer holds, a full batch per
	// worker, and a whole-batch claim (claimMax). Sized by maxBatch
	// instead, a backlog of GA4 events (batches of 25) would be claimed
	// 2,000 at a time and held up to 2,000 per worker whenever Google Ads
	// (batches of 2,000) has a sender too. It is the claimer's alone.
	heldBatch int
	// intakeSeen is when the claimer last saw a webhook in progress
	// (claimMax); zero when it never has.
	intakeSeen time.Time
	// tracer is nil when tracing is off.
	tracer trace.Tracer
	// held are the jobs claimed and not yet settled or left, with their
	// leases.
	held *leases
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
	if cfg.YieldAt == 0 {
		cfg.YieldAt = DefaultYieldAt
	}
	if cfg.YieldAt < 0 {
		cfg.Intake = nil
	}
	if cfg.MaxYield <= 0 {
		cfg.MaxYield = DefaultMaxYield
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
	d := &Deliverer{q: q, senders: senders, cfg: cfg, wake: make(chan struct{}, 1), log: cfg.Logger, held: newLeases()}
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
	d.heldBatch = d.maxBatch
	return d
}

// Notify wakes an idle claimer: new work was stored. It never blocks.
func (d *Deliverer) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}
