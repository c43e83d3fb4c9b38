package diagnose

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	datamanager "google.golang.org/api/datamanager/v1"
	"google.golang.org/api/googleapi"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// The results of a poll, as Recorder.Poll is told them.
const (
	PollResolved   = "resolved"   // Google reported on every event
	PollProcessing = "processing" // not yet: asked again later
	PollError      = "error"      // Google or the network failed: asked again later
	PollGaveUp     = "gave_up"    // the last poll: the schedule gave up, every delivery unknown
)

// Recorder is told about every poll made and every verdict recorded
// (metrics implement it). destination is the delivery's destination name.
type Recorder interface {
	Poll(result string)
	Outcome(destination string, v forwarder.Verdict)
}

type nopRecorder struct{}

func (nopRecorder) Poll(string)                       {}
func (nopRecorder) Outcome(string, forwarder.Verdict) {}

// PollerConfig tunes a Poller. Zero values take the defaults.
type PollerConfig struct {
	Schedule Schedule
	// Interval is how often due polls are looked for (default 1s).
	Interval time.Duration
	// Workers bounds the polls claimed in one round, all asked about at
	// once (default 4): a poll is asked about right after its claim, well
	// within its lease.
	Workers int
	// Timeout bounds one requestStatus:retrieve call (default 30s).
	Timeout time.Duration
	// Now is the store's clock (default time.Now).
	Now      func() time.Time
	Logger   *slog.Logger
	Recorder Recorder
}

// Poller asks Google about the requests it accepted, as the store's
// pending polls fall due, until each delivery has a final outcome. Each
// poll is held under the store's lease while it is asked about, so one
// Poller at a time (across instances on one Redis) asks about a request:
// a poll whose lease would not outlast the request (store.LeaseMargin)
// is not asked about, and comes back after its lease.
type Poller struct {
	st  store.Diagnostics
	dm  *datamanager.Service
	cfg PollerConfig
	log *slog.Logger
}

// NewPoller returns a Poller over the store's pending polls, asking
// Google through dm (the Data Manager client of the sender: same endpoint,
// same token source).
func NewPoller(st store.Diagnostics, dm *datamanager.Service, cfg PollerConfig) *Poller {
	cfg.Schedule = cfg.Schedule.WithDefaults()
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
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
	return &Poller{st: st, dm: dm, cfg: cfg, log: cfg.Logger}
}

// Run polls until ctx ends; it returns nil then.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		if p.Round(ctx) == p.cfg.Workers && ctx.Err() == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Round claims the polls due now and asks Google about each; it returns
// how many it claimed.
func (p *Poller) Round(ctx context.Context) int {
	polls, err := p.st.ClaimPolls(ctx, p.cfg.Workers)
	if err != nil {
		if ctx.Err() == nil {
			p.log.ErrorContext(ctx, "claiming due polls failed", "err", err)
		}
		return 0
	}
	// The store's lease as the claims show it: a little under the true
	// lease.
	var lease time.Duration
	claimed := p.cfg.Now()
	for _, poll := range polls {
		lease = max(lease, poll.DueAt.Sub(claimed))
	}
	var wg sync.WaitGroup
	for _, poll := range polls {
		wg.Go(func() { p.ask(ctx, poll, store.LeaseMargin(p.cfg.Timeout, lease)) })
	}
	wg.Wait()
	return len(polls)
}

// ask polls Google about one request and records what it learnt; a poll
// whose lease ends within margin is left to its lease.
func (p *Poller) ask(ctx context.Context, poll store.Poll, margin time.Duration) {
	log := p.log.With("request_id", poll.RequestID, "deliveries", len(poll.Items), "polls", poll.Polls+1)
	if poll.DueAt.Sub(p.cfg.Now()) < margin {
		log.WarnContext(ctx, "not asked: its lease may end before the answer would; left to its lease")
		return
	}
	rctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	resp, err := p.dm.RequestStatus.Retrieve().RequestId(poll.RequestID).Context(rctx).Do()
	cancel()
	if ctx.Err() != nil {
		return // shutting down: the poll comes back after its lease
	}
	now := p.cfg.Now()
	poll.Polls++
	poll.LastPoll = now
	var verdicts []forwarder.Verdict
	done := false
	result := PollProcessing
	if err != nil {
		poll.LastAnswer = "error: " + errorCode(err)
		log.WarnContext(ctx, "requestStatus:retrieve failed; asking again later", "code", errorCode(err))
		result = PollError
	} else {
		poll.LastAnswer = answer(resp)
		all, ok, rerr := Read(resp, destinations(poll.Items))
		switch {
		case rerr != nil:
			poll.LastAnswer = "unreadable: " + poll.LastAnswer
			log.WarnContext(ctx, "requestStatus:retrieve answer not understood; asking again later", "err", rerr)
			result = PollError
		case ok:
			done = true
			verdicts = make([]forwarder.Verdict, len(poll.Items))
			for i, it := range poll.Items {
				verdicts[i] = all[it.Index]
			}
			result = PollResolved
		}
	}
	if !done {
		due, more := p.cfg.Schedule.Next(poll.SentAt, now, poll.Polls)
		if more {
			p.cfg.Recorder.Poll(result)
			p.settle(ctx, log, "reschedule", func() error { return p.st.ReschedulePoll(ctx, poll, due) })
			return
		}
		result = PollGaveUp
		note := fmt.Sprintf("Google did not report within %s of the send (%d polls; last answer: %s)", p.cfg.Schedule.GiveUp, poll.Polls, poll.LastAnswer)
		verdicts = make([]forwarder.Verdict, len(poll.Items))
		for i := range verdicts {
			verdicts[i] = forwarder.Verdict{Outcome: forwarder.OutcomeUnknown, Note: note}
		}
	}
	p.cfg.Recorder.Poll(result)
	if p.settle(ctx, log, "resolve", func() error { return p.st.ResolvePoll(ctx, poll, verdicts) }) {
		for i, it := range poll.Items {
			p.cfg.Recorder.Outcome(destinationOf(it.DeliveryID), verdicts[i])
		}
		log.InfoContext(ctx, "processing outcome recorded", "outcome", summary(verdicts))
	}
}

// settle runs op and reports whether it was recorded; a lost lease means
// another holder has the poll now.
func (p *Poller) settle(ctx context.Context, log *slog.Logger, what string, op func() error) bool {
	err := op()
	switch {
	case err == nil:
		return true
	case errors.Is(err, store.ErrLeaseLost):
		log.WarnContext(ctx, "poll lease lost before "+what+"; its current holder decides")
	default:
		log.ErrorContext(ctx, what+" of a poll failed; it comes back after its lease", "err", err)
	}
	return false
}

// destinations returns, per event of the request (events[] order), its
// destination's index, as Read wants them; -1 for the events the poll has
// no item for (their deliveries were settled otherwise).
func destinations(items []store.PollItem) []int {
	n := 0
	for _, it := range items {
		n = max(n, it.Index+1)
	}
	out := make([]int, n)
	for i := range out {
		out[i] = -1 // not followed
	}
	for _, it := range items {
		out[it.Index] = it.Dest
	}
	return out
}

// destinationOf is the destination name of a delivery id
// (sid/rule/destination).
func destinationOf(id string) string {
	return id[strings.LastIndexByte(id, '/')+1:]
}

// answer sums up Google's answer: its statuses, per destination.
func answer(resp *datamanager.RetrieveRequestStatusResponse) string {
	var out []string
	for _, st := range resp.RequestStatusPerDestination {
		out = append(out, st.RequestStatus)
	}
	if len(out) == 0 {
		return "no status"
	}
	return strings.Join(out, ",")
}

// summary counts verdicts by outcome, e.g. "counted=3 rejected=1".
func summary(vs []forwarder.Verdict) string {
	n := map[forwarder.Outcome]int{}
	var order []forwarder.Outcome
	for _, v := range vs {
		if n[v.Outcome] == 0 {
			order = append(order, v.Outcome)
		}
		n[v.Outcome]++
	}
	slices.Sort(order)
	var b strings.Builder
	for i, o := range order {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", o, n[o])
	}
	return b.String()
}

// errorCode is a short code for a failed retrieve, without Google's
// message (which may quote the request): HTTP_503, or the transport's
// kind of failure.
func errorCode(err error) string {
	var gerr *googleapi.Error
	switch {
	case errors.As(err, &gerr):
		return fmt.Sprintf("HTTP_%d", gerr.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "TIMEOUT"
	default:
		return "TRANSPORT"
	}
}
