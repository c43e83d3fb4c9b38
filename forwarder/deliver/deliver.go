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
// The claimer claims only as many jobs as there are idle workers, so no
// job waits under a lease in a local queue.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Queue is the part of the store the workers use.
type Queue interface {
	Claim(ctx context.Context, max int) ([]store.Job, error)
	Ack(ctx context.Context, j store.Job) error
	Retry(ctx context.Context, j store.Job, at time.Time, reason string) error
	Bury(ctx context.Context, j store.Job, reason, code string) error
}

// Sender sends one delivery and classifies its failure.
type Sender interface {
	Send(ctx context.Context, d forwarder.Delivery) error
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
	Policy      Policy
	Now         func() time.Time
	Logger      *slog.Logger
	Recorder    Recorder // default: records nothing
}

// Deliverer is the worker pool.
type Deliverer struct {
	q       Queue
	senders map[string]Sender
	cfg     Config
	wake    chan struct{}
	log     *slog.Logger
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
	return &Deliverer{q: q, senders: senders, cfg: cfg, wake: make(chan struct{}, 1), log: cfg.Logger}
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
func (d *Deliverer) Run(ctx context.Context) error {
	idle := make(chan struct{}, d.cfg.Workers)
	for range d.cfg.Workers {
		idle <- struct{}{}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	backoff := d.cfg.PollInterval
	for {
		// Wait for at least one idle worker, then take every idle one.
		select {
		case <-ctx.Done():
			return nil
		case <-idle:
		}
		free := 1
	take:
		for {
			select {
			case <-idle:
				free++
			default:
				break take
			}
		}
		jobs, err := d.q.Claim(ctx, free)
		if err != nil && ctx.Err() == nil {
			d.log.ErrorContext(ctx, "claim failed", "err", err)
			// Back off up to 30x the poll interval while the store is down.
			backoff = min(backoff*2, 30*d.cfg.PollInterval)
		} else {
			backoff = d.cfg.PollInterval
		}
		for _, j := range jobs {
			free--
			wg.Go(func() {
				defer func() { idle <- struct{}{} }()
				d.process(context.WithoutCancel(ctx), ctx.Done(), j)
			})
		}
		for range free {
			idle <- struct{}{}
		}
		if len(jobs) > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-time.After(backoff):
		}
	}
}

// process sends one job and settles it. ctx is not cancelled by shutdown:
// a send that started is finished (within SendTimeout) and settled. When
// the store cannot record the outcome, process tries again with backoff
// for up to SettleRetry, or until stop closes (shutdown).
func (d *Deliverer) process(ctx context.Context, stop <-chan struct{}, j store.Job) {
	dl := j.Delivery
	log := d.log.With("call_sid", dl.CallSid, "rule", dl.Rule, "destination", dl.Destination, "attempt", j.Attempts+1)
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
	}
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
