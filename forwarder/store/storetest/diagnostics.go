package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

var diagnosticsTests = []subtest{
	{"history/each settlement stores the history and verdict given", testSettlementHistory},
	{"history/bounded to the latest attempts", testHistoryBounded},
	{"polls/ack polled records the acked items only", testAckPolledLostLease},
	{"polls/no acked item, no poll", testAckPolledNone},
	{"polls/claimed under a lease that ends", testClaimPollLease},
	{"polls/reschedule keeps the counters", testReschedulePoll},
	{"polls/resolve records verdicts and processing dead letters", testResolvePoll},
	{"polls/resolve leaves a job planned anew alone", testResolveRequeued},
	{"polls/resolve with a lost lease writes nothing", testResolveLostLease},
	{"polls/concurrent claimers get each poll once", testConcurrentClaimPolls},
	{"polls/sweep keeps pending polls", testSweepKeepsPolls},
	{"dead/processing dead letter retried and dropped", testProcessingDeadLetter},
}

// attempts returns n attempts, a second apart from epoch.
func attempts(n int, result string) []store.Attempt {
	out := make([]store.Attempt, n)
	for i := range out {
		out[i] = store.Attempt{
			At: epoch.Add(time.Duration(i) * time.Second), Took: 1500 * time.Millisecond,
			Result: result, Code: "HTTP_503", Error: fmt.Sprintf("attempt %d", i), RequestID: fmt.Sprintf("req-%d", i),
		}
	}
	return out
}

// pollOf returns a poll of request req carrying jobs, in order, at
// events[] positions 0.., due after a wait.
func pollOf(req string, jobs []store.Job) store.Poll {
	p := store.Poll{RequestID: req, SentAt: epoch, DueAt: epoch.Add(30 * time.Minute)}
	for i, j := range jobs {
		p.Items = append(p.Items, store.PollItem{DeliveryID: j.Delivery.ID, Index: i, Dest: i % 2})
	}
	return p
}

// ackPolled acks jobs with their poll, failing the test on any error.
func (e *env) ackPolled(t *testing.T, jobs []store.Job, p store.Poll) {
	t.Helper()
	for i, err := range e.s.AckPolled(e.ctx, jobs, p) {
		if err != nil {
			t.Fatalf("AckPolled result %d (%s) = %v, want nil", i, jobs[i].Delivery.ID, err)
		}
	}
}

// polled accepts call sid with one delivery per rule, claims them and
// acks them with a poll of request req; it returns the poll as stored.
func (e *env) polled(t *testing.T, sid, req string, rules ...string) store.Poll {
	t.Helper()
	e.accept(t, sid, rules...)
	jobs := e.claim(t, len(rules))
	if len(jobs) != len(rules) {
		t.Fatalf("Claim(%d) = %v, want every job of %s", len(rules), jobIDs(jobs), sid)
	}
	p := pollOf(req, jobs)
	e.ackPolled(t, jobs, p)
	return p
}

// claimPolls claims up to max polls, failing the test on error.
func (e *env) claimPolls(t *testing.T, max int) []store.Poll {
	t.Helper()
	ps, err := e.s.ClaimPolls(e.ctx, max)
	if err != nil {
		t.Fatalf("ClaimPolls(%d) = %v, want nil", max, err)
	}
	return ps
}

func requestIDs(ps []store.Poll) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.RequestID
	}
	return out
}

// wantPollStats checks PollStats.
func (e *env) wantPollStats(t *testing.T, want store.PollStats) {
	t.Helper()
	got, err := e.s.PollStats(e.ctx)
	if err != nil {
		t.Fatalf("PollStats() = %v, want nil", err)
	}
	if got.Pending != want.Pending || !got.OldestSentAt.Equal(want.OldestSentAt) {
		t.Fatalf("PollStats() = %+v, want %+v", got, want)
	}
}

// wantClaimedPoll checks a claimed poll against the poll recorded.
func wantClaimedPoll(t *testing.T, got, want store.Poll, leaseEnd time.Time) {
	t.Helper()
	if got.Lease == "" {
		t.Fatalf("claimed poll %s has no lease", got.RequestID)
	}
	wantTime(t, "DueAt of claimed poll "+got.RequestID, got.DueAt, leaseEnd)
	got.Lease, got.DueAt, want.DueAt = "", time.Time{}, time.Time{}
	wantSameJSON(t, "claimed poll", got, want)
}

func testSettlementHistory(t *testing.T, e *env) {
	counted := &forwarder.Verdict{Outcome: forwarder.OutcomeCounted}
	rejected := &forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "UNPARSEABLE_GCLID"}
	sent := &forwarder.Verdict{Outcome: forwarder.OutcomeSent}
	tests := []struct {
		name    string
		verdict *forwarder.Verdict
		settle  func(j store.Job) error
		state   store.JobState
	}{
		{"ack", sent, func(j store.Job) error { return e.s.Ack(e.ctx, j) }, store.JobDone},
		{"ackmany", counted, func(j store.Job) error { return e.s.AckMany(e.ctx, []store.Job{j})[0] }, store.JobDone},
		{"ackpolled", nil, func(j store.Job) error {
			return e.s.AckPolled(e.ctx, []store.Job{j}, pollOf("req-h", []store.Job{j}))[0]
		}, store.JobDone},
		{"retry", nil, func(j store.Job) error { return e.s.Retry(e.ctx, j, e.clock.Now().Add(time.Hour), "busy") }, store.JobPending},
		{"bury", rejected, func(j store.Job) error { return e.s.Bury(e.ctx, j, "bad click", "UNPARSEABLE_GCLID") }, store.JobDead},
	}
	for i, tc := range tests {
		sid := "CA-hist-" + tc.name
		e.accept(t, sid, "r")
		j := e.claimOne(t, deliveryID(sid, "r"))
		if len(j.History) != 0 || j.Verdict != nil {
			t.Fatalf("%s: new job has history %v, verdict %v; want none", tc.name, j.History, j.Verdict)
		}
		j.History = attempts(i+1, store.AttemptRetry)
		j.Verdict = tc.verdict
		if err := tc.settle(j); err != nil {
			t.Fatalf("%s(%s) = %v, want nil", tc.name, j.Delivery.ID, err)
		}
		got := e.job(t, sid, j.Delivery.ID)
		if got.State != tc.state {
			t.Fatalf("%s: job is %s, want %s", tc.name, got.State, tc.state)
		}
		wantSameJSON(t, tc.name+": stored history", got.Job.History, j.History)
		wantSameJSON(t, tc.name+": stored verdict", got.Job.Verdict, tc.verdict)
	}
	// A retried job is claimed again with its history.
	e.clock.Advance(time.Hour)
	j := e.claimOne(t, deliveryID("CA-hist-retry", "r"))
	wantSameJSON(t, "history of the job claimed again", j.History, attempts(4, store.AttemptRetry))
	// A settlement stores the history it is given, never one of its own.
	j.History = nil
	if err := e.s.Ack(e.ctx, j); err != nil {
		t.Fatalf("Ack = %v, want nil", err)
	}
	if got := e.job(t, "CA-hist-retry", j.Delivery.ID).Job.History; len(got) != 0 {
		t.Fatalf("history after an Ack without history = %v, want none", got)
	}
}

func testHistoryBounded(t *testing.T, e *env) {
	e.accept(t, "CA-bound", "r")
	j := e.claimOne(t, deliveryID("CA-bound", "r"))
	j.History = attempts(store.MaxHistory+5, store.AttemptRetry)
	if err := e.s.Retry(e.ctx, j, e.clock.Now(), "busy"); err != nil {
		t.Fatalf("Retry = %v, want nil", err)
	}
	got := e.claimOne(t, j.Delivery.ID).History
	wantSameJSON(t, "stored history", got, j.History[5:])
}

// testAckPolledLostLease acks a batch in which one job's lease is lost:
// the poll is recorded atomically with the acks, without that job.
func testAckPolledLostLease(t *testing.T, e *env) {
	const sid = "CA-polled"
	e.accept(t, sid, "r1", "r2", "r3")
	jobs := e.claim(t, 3)
	p := pollOf("req-1", jobs)
	stale := slices.Clone(jobs)
	stale[1].Lease = "forged"
	errs := e.s.AckPolled(e.ctx, stale, p)
	for i, err := range errs {
		if i == 1 {
			wantErr(t, "AckPolled of the forged lease", err, store.ErrLeaseLost)
		} else if err != nil {
			t.Fatalf("AckPolled result %d = %v, want nil", i, err)
		}
	}
	e.wantStats(t, store.Stats{Calls: 1, Pending: 1, Done: 2})
	e.wantPollStats(t, store.PollStats{Pending: 1, OldestSentAt: epoch})

	if ps := e.claimPolls(t, 10); len(ps) != 0 {
		t.Fatalf("ClaimPolls before the poll is due = %v, want none", requestIDs(ps))
	}
	e.clock.Advance(30 * time.Minute)
	ps := e.claimPolls(t, 10)
	if len(ps) != 1 {
		t.Fatalf("ClaimPolls when due = %v, want [req-1]", requestIDs(ps))
	}
	want := p
	want.Items = []store.PollItem{p.Items[0], p.Items[2]}
	wantClaimedPoll(t, ps[0], want, e.clock.Now().Add(lease))
}

func testAckPolledNone(t *testing.T, e *env) {
	e.accept(t, "CA-none", "r")
	j := e.claimOne(t, deliveryID("CA-none", "r"))
	p := pollOf("req-none", []store.Job{j})
	j.Lease = "forged"
	wantErr(t, "AckPolled with a lost lease", e.s.AckPolled(e.ctx, []store.Job{j}, p)[0], store.ErrLeaseLost)
	if errs := e.s.AckPolled(e.ctx, nil, p); len(errs) != 0 {
		t.Fatalf("AckPolled(nil) = %v, want no results", errs)
	}
	e.wantPollStats(t, store.PollStats{})
	e.clock.Advance(time.Hour)
	if ps := e.claimPolls(t, 10); len(ps) != 0 {
		t.Fatalf("ClaimPolls = %v, want none", requestIDs(ps))
	}
}

func testClaimPollLease(t *testing.T, e *env) {
	p := e.polled(t, "CA-lease", "req-lease", "r1", "r2")
	e.clock.Advance(30 * time.Minute)
	first := e.claimPolls(t, 5)
	if len(first) != 1 {
		t.Fatalf("ClaimPolls = %v, want [req-lease]", requestIDs(first))
	}
	wantClaimedPoll(t, first[0], p, e.clock.Now().Add(lease))
	// Claimed: invisible until its lease ends, then back under a new lease.
	e.clock.Advance(lease - time.Nanosecond)
	if ps := e.claimPolls(t, 5); len(ps) != 0 {
		t.Fatalf("ClaimPolls during the lease = %v, want none", requestIDs(ps))
	}
	e.clock.Advance(time.Nanosecond)
	second := e.claimPolls(t, 5)
	if len(second) != 1 || second[0].Lease == first[0].Lease {
		t.Fatalf("ClaimPolls after the lease = %+v, want req-lease under a new lease", second)
	}
	stale := first[0]
	stale.Polls = 9
	wantErr(t, "ReschedulePoll with the old lease", e.s.ReschedulePoll(e.ctx, stale, e.clock.Now()), store.ErrLeaseLost)
	wantErr(t, "ResolvePoll with the old lease", e.s.ResolvePoll(e.ctx, stale, make([]forwarder.Verdict, 2)), store.ErrLeaseLost)
	e.wantPollStats(t, store.PollStats{Pending: 1, OldestSentAt: epoch})
	if err := e.s.ReschedulePoll(e.ctx, second[0], e.clock.Now()); err != nil {
		t.Fatalf("ReschedulePoll with the current lease = %v, want nil", err)
	}
	third := e.claimPolls(t, 5)
	if len(third) != 1 || third[0].Polls != 0 {
		t.Fatalf("ClaimPolls after reschedule = %+v, want req-lease, 0 polls", third)
	}
	wantErr(t, "ReschedulePoll with a settled lease", e.s.ReschedulePoll(e.ctx, second[0], e.clock.Now()), store.ErrLeaseLost)
}

func testReschedulePoll(t *testing.T, e *env) {
	p := e.polled(t, "CA-resched", "req-r", "r1")
	e.polled(t, "CA-resched-2", "req-s", "r1")
	e.clock.Advance(30 * time.Minute)
	ps := e.claimPolls(t, 1)
	if len(ps) != 1 || ps[0].RequestID != "req-r" {
		t.Fatalf("ClaimPolls(1) = %v, want [req-r] (oldest due first)", requestIDs(ps))
	}
	c := ps[0]
	c.Polls, c.LastPoll, c.LastAnswer = 1, e.clock.Now(), "PROCESSING"
	c.Items, c.SentAt = nil, time.Time{} // not the poll's to change
	due := e.clock.Now().Add(45 * time.Minute)
	if err := e.s.ReschedulePoll(e.ctx, c, due); err != nil {
		t.Fatalf("ReschedulePoll = %v, want nil", err)
	}
	e.clock.Advance(45*time.Minute - time.Nanosecond)
	if ps := e.claimPolls(t, 5); len(ps) != 1 || ps[0].RequestID != "req-s" {
		t.Fatalf("ClaimPolls before the new due time = %v, want [req-s]", requestIDs(ps))
	}
	e.clock.Advance(time.Nanosecond)
	ps = e.claimPolls(t, 5)
	if len(ps) != 1 {
		t.Fatalf("ClaimPolls at the new due time = %v, want [req-r]", requestIDs(ps))
	}
	want := p
	want.Polls, want.LastPoll, want.LastAnswer = 1, epoch.Add(30*time.Minute), "PROCESSING"
	wantClaimedPoll(t, ps[0], want, e.clock.Now().Add(lease))
}

func testResolvePoll(t *testing.T, e *env) {
	const sid = "CA-resolve"
	e.polled(t, sid, "req-v", "r1", "r2", "r3", "r4")
	e.clock.Advance(30 * time.Minute)
	ps := e.claimPolls(t, 1)
	if len(ps) != 1 {
		t.Fatalf("ClaimPolls = %v, want [req-v]", requestIDs(ps))
	}
	verdicts := []forwarder.Verdict{
		{Outcome: forwarder.OutcomeCounted},
		{Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"},
		{Outcome: forwarder.OutcomeUnknown, Note: "no report within 24h"},
		{}, // no outcome: nothing recorded
	}
	if err := e.s.ResolvePoll(e.ctx, ps[0], verdicts[:3]); err == nil || errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("ResolvePoll with too few verdicts = %v, want an error of its own", err)
	}
	e.clock.Advance(time.Second)
	if err := e.s.ResolvePoll(e.ctx, ps[0], verdicts); err != nil {
		t.Fatalf("ResolvePoll = %v, want nil", err)
	}
	wantStates := []store.JobState{store.JobDone, store.JobDead, store.JobDone, store.JobDone}
	for i, info := range e.jobs(t, sid) {
		if info.State != wantStates[i] {
			t.Fatalf("job %s is %s, want %s", info.Job.Delivery.ID, info.State, wantStates[i])
		}
		var want *forwarder.Verdict
		if verdicts[i].Outcome != "" {
			want = &verdicts[i]
		}
		wantSameJSON(t, "verdict of "+info.Job.Delivery.ID, info.Job.Verdict, want)
		wantKind := ""
		if i == 1 {
			wantKind = store.DeadProcessing
		}
		if info.Kind != wantKind {
			t.Fatalf("Jobs: kind of %s = %q, want %q", info.Job.Delivery.ID, info.Kind, wantKind)
		}
	}
	dls := e.deadLetters(t, 0)
	if len(dls) != 1 {
		t.Fatalf("DeadLetters = %v, want the rejected delivery", deadIDs(dls))
	}
	dl := dls[0]
	if dl.Kind != store.DeadProcessing || dl.Reason != "rejected by Google: EXPIRED_CLICK" || dl.Code != "EXPIRED_CLICK" ||
		dl.Job.LastError != dl.Reason || !dl.At.Equal(e.clock.Now()) || dl.Job.Delivery.ID != deliveryID(sid, "r2") {
		t.Fatalf("dead letter = %+v, want %s of kind processing, rejected by Google: EXPIRED_CLICK, at %v", dl, deliveryID(sid, "r2"), e.clock.Now())
	}
	e.wantStats(t, store.Stats{Calls: 1, Done: 3, Dead: 1})
	e.wantPollStats(t, store.PollStats{})
	wantErr(t, "ResolvePoll again", e.s.ResolvePoll(e.ctx, ps[0], verdicts), store.ErrLeaseLost)
	e.clock.Advance(time.Hour)
	if ps := e.claimPolls(t, 5); len(ps) != 0 {
		t.Fatalf("ClaimPolls after resolve = %v, want none", requestIDs(ps))
	}
}

// testResolveRequeued resolves a poll after its jobs' done marks expired
// and the call was accepted anew, planning them again: one is pending, the
// other was sent again by another request. Neither gets a verdict of the
// old request.
func testResolveRequeued(t *testing.T, e *env) {
	const sid = "CA-requeued"
	e.polled(t, sid, "req-old", "r1", "r2", "r3")
	e.clock.Advance(window)
	ps := e.claimPolls(t, 1)
	if len(ps) != 1 {
		t.Fatalf("ClaimPolls = %v, want [req-old]", requestIDs(ps))
	}
	// After the window r1 and r2 are planned anew; r2 is sent again.
	call := newCall(sid)
	if err := e.s.Accept(e.ctx, call, plan(call, "r1", "r2")); err != nil {
		t.Fatalf("Accept anew = %v, want nil", err)
	}
	again := e.claim(t, 2)
	if len(again) != 2 {
		t.Fatalf("Claim = %v, want r1 and r2", jobIDs(again))
	}
	r2 := again[1]
	e.ackPolled(t, []store.Job{r2}, pollOf("req-new", []store.Job{r2}))
	if err := e.s.Retry(e.ctx, again[0], e.clock.Now().Add(time.Hour), "busy"); err != nil {
		t.Fatalf("Retry = %v, want nil", err)
	}

	rejected := forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"}
	if err := e.s.ResolvePoll(e.ctx, ps[0], []forwarder.Verdict{rejected, rejected, {Outcome: forwarder.OutcomeCounted}}); err != nil {
		t.Fatalf("ResolvePoll = %v, want nil", err)
	}
	wantState := map[string]store.JobState{"r1": store.JobPending, "r2": store.JobDone, "r3": store.JobDone}
	for rule, state := range wantState {
		info := e.job(t, sid, deliveryID(sid, rule))
		if info.State != state {
			t.Fatalf("job %s = %s, want %s", rule, info.State, state)
		}
		if rule != "r3" && info.Job.Verdict != nil {
			t.Fatalf("job %s planned anew has verdict %v of the old request, want none", rule, info.Job.Verdict)
		}
	}
	if v := e.job(t, sid, deliveryID(sid, "r3")).Job.Verdict; v == nil || v.Outcome != forwarder.OutcomeCounted {
		t.Fatalf("job still done by the old request has verdict %v, want counted", v)
	}
	if dls := e.deadLetters(t, 0); len(dls) != 0 {
		t.Fatalf("DeadLetters = %v, want none", deadIDs(dls))
	}
	e.wantPollStats(t, store.PollStats{Pending: 1, OldestSentAt: epoch})
}

func testResolveLostLease(t *testing.T, e *env) {
	const sid = "CA-lost"
	e.polled(t, sid, "req-lost", "r1")
	e.clock.Advance(30 * time.Minute)
	old := e.claimPolls(t, 1)
	e.clock.Advance(lease)
	cur := e.claimPolls(t, 1)
	if len(old) != 1 || len(cur) != 1 {
		t.Fatalf("ClaimPolls = %v then %v, want req-lost twice", requestIDs(old), requestIDs(cur))
	}
	rejected := []forwarder.Verdict{{Outcome: forwarder.OutcomeRejected, Reason: "CLICK_NOT_FOUND"}}
	wantErr(t, "ResolvePoll with the expired lease", e.s.ResolvePoll(e.ctx, old[0], rejected), store.ErrLeaseLost)
	if info := e.job(t, sid, deliveryID(sid, "r1")); info.State != store.JobDone || info.Job.Verdict != nil {
		t.Fatalf("job after a lost resolve = %s with verdict %v, want done, none", info.State, info.Job.Verdict)
	}
	e.wantPollStats(t, store.PollStats{Pending: 1, OldestSentAt: epoch})
	if err := e.s.ResolvePoll(e.ctx, cur[0], rejected); err != nil {
		t.Fatalf("ResolvePoll with the current lease = %v, want nil", err)
	}
	e.wantStats(t, store.Stats{Calls: 1, Dead: 1})
}

func testConcurrentClaimPolls(t *testing.T, e *env) {
	const polls = 40
	for i := range polls {
		e.polled(t, fmt.Sprintf("CA-cc-%02d", i), fmt.Sprintf("req-%02d", i), "r")
	}
	e.clock.Advance(30 * time.Minute)
	got := claimConcurrently(t, e, []store.Store{e.s, e.s, e.s, e.s})
	if len(got) != polls {
		t.Fatalf("claimed %d distinct polls, want %d", len(got), polls)
	}
}

// claimConcurrently claims polls from every store at once, two at a time,
// until none is due, and returns how often each request was handed out;
// a request handed out twice fails the test.
func claimConcurrently(t *testing.T, e *env, stores []store.Store) map[string]int {
	t.Helper()
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	// Each claim takes at least one poll, so the pending polls bound the
	// claims; a poll handed out again under a live lease must not loop.
	st, err := e.s.PollStats(e.ctx)
	if err != nil {
		t.Fatalf("PollStats() = %v, want nil", err)
	}
	for _, s := range stores {
		wg.Go(func() {
			for range st.Pending + 1 {
				ps, err := s.ClaimPolls(e.ctx, 2)
				if err != nil {
					t.Errorf("ClaimPolls = %v, want nil", err)
					return
				}
				if len(ps) == 0 {
					return
				}
				mu.Lock()
				for _, p := range ps {
					seen[p.RequestID]++
					if seen[p.RequestID] > 1 {
						t.Errorf("poll %s handed out twice under one lease", p.RequestID)
					}
				}
				mu.Unlock()
			}
			t.Errorf("ClaimPolls still hands polls out after %d claims", st.Pending+1)
		})
	}
	wg.Wait()
	return seen
}

func testSweepKeepsPolls(t *testing.T, e *env) {
	e.polled(t, "CA-sweep", "req-sweep", "r")
	e.clock.Advance(2 * window)
	if _, err := e.s.Sweep(e.ctx); err != nil {
		t.Fatalf("Sweep = %v, want nil", err)
	}
	e.wantStats(t, store.Stats{})
	e.wantPollStats(t, store.PollStats{Pending: 1, OldestSentAt: epoch})
	ps := e.claimPolls(t, 1)
	if len(ps) != 1 {
		t.Fatalf("ClaimPolls after Sweep = %v, want [req-sweep]", requestIDs(ps))
	}
	// Its job went with the sweep: resolving records nothing and forgets the poll.
	if err := e.s.ResolvePoll(e.ctx, ps[0], []forwarder.Verdict{{Outcome: forwarder.OutcomeRejected}}); err != nil {
		t.Fatalf("ResolvePoll = %v, want nil", err)
	}
	e.wantStats(t, store.Stats{})
	e.wantPollStats(t, store.PollStats{})
}

// processingDead makes the delivery of sid a processing dead letter.
func (e *env) processingDead(t *testing.T, sid string) store.Job {
	t.Helper()
	e.accept(t, sid, "r")
	j := e.claimOne(t, deliveryID(sid, "r"))
	j.History = attempts(1, store.AttemptDelivered)
	e.ackPolled(t, []store.Job{j}, pollOf("req-"+sid, []store.Job{j}))
	e.clock.Advance(30 * time.Minute)
	ps := e.claimPolls(t, 1)
	if len(ps) != 1 {
		t.Fatalf("ClaimPolls = %v, want one", requestIDs(ps))
	}
	if err := e.s.ResolvePoll(e.ctx, ps[0], []forwarder.Verdict{{Outcome: forwarder.OutcomeRejected, Reason: "CLICK_NOT_FOUND"}}); err != nil {
		t.Fatalf("ResolvePoll = %v, want nil", err)
	}
	return j
}

func testProcessingDeadLetter(t *testing.T, e *env) {
	retried := e.processingDead(t, "CA-pd-retry")
	dropped := e.processingDead(t, "CA-pd-drop")
	if err := e.s.RetryDead(e.ctx, retried.Delivery.ID); err != nil {
		t.Fatalf("RetryDead = %v, want nil", err)
	}
	info := e.job(t, "CA-pd-retry", retried.Delivery.ID)
	if info.State != store.JobPending || info.Kind != "" || info.Job.Verdict != nil {
		t.Fatalf("retried processing dead letter = %+v, want pending, no kind, no verdict", info)
	}
	// Pending again: it is sent again, with its history.
	j := e.claimOne(t, retried.Delivery.ID)
	wantSameJSON(t, "history of the retried delivery", j.History, retried.History)

	if err := e.s.DropDead(e.ctx, dropped.Delivery.ID); err != nil {
		t.Fatalf("DropDead = %v, want nil", err)
	}
	info = e.job(t, "CA-pd-drop", dropped.Delivery.ID)
	if info.State != store.JobDropped || info.Kind != store.DeadProcessing || info.Job.Verdict == nil || info.Job.Verdict.Outcome != forwarder.OutcomeRejected {
		t.Fatalf("dropped processing dead letter = %+v, want dropped, kind processing, verdict rejected", info)
	}
	if dls := e.deadLetters(t, 0); len(dls) != 0 {
		t.Fatalf("DeadLetters = %v, want none", deadIDs(dls))
	}
}
