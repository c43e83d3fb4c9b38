package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// RunDurable runs the subtests that need more than one handle on the same
// data: a restart (close, then open again) and, when shared is true,
// handles open at once (instances on one Redis). newData is called once per
// subtest with fresh, empty data and returns a function that opens a
// handle on that data; the suite closes every handle it opens. Subtests
// run in parallel.
func RunDurable(t *testing.T, shared bool, newData func(t *testing.T, opts store.Options) (open func() (store.Store, error))) {
	tests := []struct {
		name   string
		shared bool
		run    func(t *testing.T, h *handles)
	}{
		{"restart/polls, history and verdicts survive", false, testRestartPolls},
		{"shared/two handles claim each poll once", true, testSharedClaimPolls},
	}
	for _, tc := range tests {
		if tc.shared && !shared {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := NewClock(epoch)
			opts := store.Options{DedupWindow: window, Lease: lease, CallerHistory: history, Now: clock.Now}
			tc.run(t, &handles{open: newData(t, opts), clock: clock})
		})
	}
}

// handles opens handles on one subtest's data.
type handles struct {
	open  func() (store.Store, error)
	clock *Clock
}

// env opens a handle, closed when t ends unless closed before.
func (h *handles) env(t *testing.T) (e *env, closeNow func()) {
	t.Helper()
	s, err := h.open()
	if err != nil {
		t.Fatalf("open = %v, want nil", err)
	}
	closed := false
	closeNow = func() {
		if closed {
			return
		}
		closed = true
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	}
	t.Cleanup(closeNow)
	return &env{s: s, clock: h.clock, ctx: t.Context()}, closeNow
}

// testRestartPolls closes the store while a poll is claimed and again
// after it is rescheduled and resolved: nothing of it is lost.
func testRestartPolls(t *testing.T, h *handles) {
	const sid = "CA-restart"
	e, stop := h.env(t)
	e.accept(t, sid, "r1", "r2")
	jobs := e.claim(t, 2)
	for i := range jobs {
		jobs[i].History = attempts(i+1, store.AttemptDelivered)
	}
	p := pollOf("req-restart", jobs)
	e.ackPolled(t, jobs, p)
	e.clock.Advance(30 * time.Minute)
	if ps := e.claimPolls(t, 1); len(ps) != 1 {
		t.Fatalf("ClaimPolls = %v, want [req-restart]", requestIDs(ps))
	}
	stop() // a crash while the poll is claimed

	e, stop = h.env(t)
	e.wantPollStats(t, store.PollStats{Pending: 1, OldestSentAt: epoch})
	e.clock.Advance(lease)
	ps := e.claimPolls(t, 1)
	if len(ps) != 1 {
		t.Fatalf("ClaimPolls after the restart = %v, want [req-restart]", requestIDs(ps))
	}
	wantClaimedPoll(t, ps[0], p, e.clock.Now().Add(lease))
	ps[0].Polls, ps[0].LastPoll, ps[0].LastAnswer = 1, e.clock.Now(), "PROCESSING"
	if err := e.s.ReschedulePoll(e.ctx, ps[0], e.clock.Now().Add(time.Hour)); err != nil {
		t.Fatalf("ReschedulePoll = %v, want nil", err)
	}
	stop()

	e, stop = h.env(t)
	e.clock.Advance(time.Hour)
	ps = e.claimPolls(t, 1)
	if len(ps) != 1 || ps[0].Polls != 1 || ps[0].LastAnswer != "PROCESSING" {
		t.Fatalf("ClaimPolls after the second restart = %+v, want req-restart after 1 poll", ps)
	}
	verdicts := []forwarder.Verdict{{Outcome: forwarder.OutcomeCounted}, {Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"}}
	if err := e.s.ResolvePoll(e.ctx, ps[0], verdicts); err != nil {
		t.Fatalf("ResolvePoll = %v, want nil", err)
	}
	stop()

	e, _ = h.env(t)
	e.wantPollStats(t, store.PollStats{})
	for i, info := range e.jobs(t, sid) {
		wantSameJSON(t, "history of "+info.Job.Delivery.ID+" after restarts", info.Job.History, jobs[i].History)
		wantSameJSON(t, "verdict of "+info.Job.Delivery.ID+" after restarts", info.Job.Verdict, verdicts[i])
	}
	if dls := e.deadLetters(t, 0); len(dls) != 1 || dls[0].Kind != store.DeadProcessing {
		t.Fatalf("DeadLetters after restarts = %+v, want one of kind processing", dls)
	}
}

// testSharedClaimPolls claims polls from two handles at once: each poll
// goes to one of them, and all come back when the leases end.
func testSharedClaimPolls(t *testing.T, h *handles) {
	const polls = 30
	a, _ := h.env(t)
	b, _ := h.env(t)
	for i := range polls {
		a.polled(t, fmt.Sprintf("CA-sh-%02d", i), fmt.Sprintf("req-%02d", i), "r")
	}
	a.clock.Advance(30 * time.Minute)
	seen := claimConcurrently(t, a, []store.Store{a.s, b.s, a.s, b.s})
	if len(seen) != polls {
		t.Fatalf("claimed %d distinct polls from two handles, want %d", len(seen), polls)
	}
	if ps := b.claimPolls(t, polls); len(ps) != 0 {
		t.Fatalf("ClaimPolls during the leases = %v, want none", requestIDs(ps))
	}
	a.clock.Advance(lease)
	if ps := b.claimPolls(t, polls); len(ps) != polls {
		t.Fatalf("ClaimPolls after the leases = %d polls, want %d", len(ps), polls)
	}
}
