package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

var tallyTests = []subtest{
	{"tallies/empty store", testTalliesEmpty},
	{"tallies/every write path", testTalliesWritePaths},
	{"tallies/random operations", testTalliesRandom},
	{"tallies/hours kept and pruned", testTalliesHours},
}

// tallyPlan returns a delivery of call under rule to each of three
// destinations: GA4 (web), Google Ads through Data Manager (ads) and
// through the Google Ads API (ads-api), each judged by its own outcome
// rule.
func tallyPlan(call *forwarder.Call, rule string) []forwarder.Delivery {
	ds := plan(call, rule)
	ds = append(ds, planAds(call, rule)...)
	api := planAds(call, rule)[0]
	api.ID = forwarder.DeliveryID(call.Sid, rule, "ads-api")
	api.Destination = "ads-api"
	api.Ads = &forwarder.AdsConversion{Backend: forwarder.AdsBackendGoogleAdsAPI, GCLID: call.GCLID}
	return append(ds, api)
}

// wantTallies checks the store's tallies against a recount (see
// CheckTallies).
func (e *env) wantTallies(t *testing.T, sids []string) {
	t.Helper()
	CheckTallies(t, e.s, e.clock.Now(), sids)
}

// CheckTallies checks the tallies of s at now against a recount made
// from its own Jobs (of every Sid in sids: every Sid it holds jobs of),
// DeadLetters and ListCalls.
func CheckTallies(t *testing.T, s store.Store, now time.Time, sids []string) {
	t.Helper()
	e := &env{s: s, ctx: t.Context()}
	dead, err := e.s.DeadLetters(e.ctx, 0)
	if err != nil {
		t.Fatalf("DeadLetters(0) = %v", err)
	}
	burial := map[string]store.DeadLetter{}
	for _, d := range dead {
		burial[d.Job.Delivery.ID] = d
	}
	r := store.NewRecount()
	deadJobs := 0
	for _, sid := range sids {
		for _, info := range e.jobs(t, sid) {
			var reason, code string
			if info.State == store.JobDead {
				d, ok := burial[info.Job.Delivery.ID]
				if !ok {
					t.Fatalf("dead job %s is not among the dead letters", info.Job.Delivery.ID)
				}
				reason, code = d.Reason, d.Code
				deadJobs++
			}
			r.AddJob(info, reason, code)
		}
	}
	if deadJobs != len(dead) {
		t.Fatalf("%d dead jobs among the calls, %d dead letters", deadJobs, len(dead))
	}
	cursor := ""
	for {
		page, next, err := e.s.ListCalls(e.ctx, store.CallFilter{Since: store.TallyFrom(now)}, cursor, store.MaxCallPage)
		if err != nil {
			t.Fatalf("ListCalls = %v", err)
		}
		for _, cs := range page {
			r.AddCall(cs.At)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	want, err := r.Tallies(now)
	if err != nil {
		t.Fatalf("recount: %v", err)
	}
	got, err := e.s.Tallies(e.ctx)
	if err != nil {
		t.Fatalf("Tallies() = %v, want nil", err)
	}
	wantSameJSON(t, fmt.Sprintf("tallies at %v", now), got, want)
}

func testTalliesEmpty(t *testing.T, e *env) {
	got, err := e.s.Tallies(e.ctx)
	if err != nil {
		t.Fatalf("Tallies() = %v, want nil", err)
	}
	if len(got.Hours)+len(got.Destinations)+len(got.DeadGroups) != 0 {
		t.Fatalf("Tallies() of an empty store = %+v, want nothing", got)
	}
	if got.Hours == nil || got.Destinations == nil || got.DeadGroups == nil {
		t.Fatalf("Tallies() of an empty store has nil lists: %+v", got)
	}
}

// testTalliesWritePaths walks every write path once, checking the
// tallies after each step, and checks a few counts outright.
func testTalliesWritePaths(t *testing.T, e *env) {
	var sids []string
	accept := func(sid string, event forwarder.Event) *forwarder.Call {
		t.Helper()
		call := newCall(sid)
		call.Event = event
		if err := e.s.Accept(e.ctx, call, tallyPlan(call, "r")); err != nil {
			t.Fatalf("Accept(%s %s) = %v", sid, event, err)
		}
		if !slices.Contains(sids, sid) {
			sids = append(sids, sid)
		}
		return call
	}
	check := func(step string) {
		t.Helper()
		t.Logf("after %s", step)
		e.wantTallies(t, sids)
	}
	for i := range 4 {
		accept(fmt.Sprintf("CA-t-%d", i), forwarder.EventInitiate)
		e.clock.Advance(20 * time.Minute)
	}
	check("accept")
	accept("CA-t-0", forwarder.EventComplete) // accepted again: a later hour
	check("accept of a second event")

	jobs := e.claim(t, 100)
	if len(jobs) != 12 {
		t.Fatalf("claimed %d jobs, want 12", len(jobs))
	}
	check("claim")
	byID := map[string]store.Job{}
	for _, j := range jobs {
		byID[j.Delivery.ID] = j
	}
	job := func(sid, dest string) store.Job { return byID[forwarder.DeliveryID(sid, "r", dest)] }

	// CA-t-0: all acked (web sent, ads awaiting, ads-api counted).
	for i, err := range e.s.AckMany(e.ctx, []store.Job{job("CA-t-0", "web"), job("CA-t-0", "ads-api")}) {
		if err != nil {
			t.Fatalf("AckMany %d = %v", i, err)
		}
	}
	e.ackPolled(t, []store.Job{job("CA-t-0", "ads")}, pollOf("req-0", []store.Job{job("CA-t-0", "ads")}))
	check("ack")
	// CA-t-1: web retried with a verdict, ads acked under a poll that
	// Google rejects, ads-api buried.
	j := job("CA-t-1", "web")
	j.Verdict = &forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "INVALID"}
	if err := e.s.Retry(e.ctx, j, e.clock.Now().Add(time.Hour), "try again"); err != nil {
		t.Fatalf("Retry = %v", err)
	}
	e.ackPolled(t, []store.Job{job("CA-t-1", "ads")}, pollOf("req-1", []store.Job{job("CA-t-1", "ads")}))
	if err := e.s.Bury(e.ctx, job("CA-t-1", "ads-api"), "bad request", "400"); err != nil {
		t.Fatalf("Bury = %v", err)
	}
	check("retry, ack polled, bury")
	e.clock.Advance(31 * time.Minute)
	polls, err := e.s.ClaimPolls(e.ctx, 10)
	if err != nil || len(polls) != 2 {
		t.Fatalf("ClaimPolls = %d polls, %v; want 2", len(polls), err)
	}
	for _, p := range polls {
		v := forwarder.Verdict{Outcome: forwarder.OutcomeCounted}
		if p.RequestID == "req-1" {
			v = forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"}
		}
		if err := e.s.ResolvePoll(e.ctx, p, []forwarder.Verdict{v}); err != nil {
			t.Fatalf("ResolvePoll(%s) = %v", p.RequestID, err)
		}
	}
	check("resolve poll")
	// CA-t-2 and CA-t-3: buried with one reason, so one group of 6.
	for _, sid := range []string{"CA-t-2", "CA-t-3"} {
		for _, dest := range []string{"web", "ads", "ads-api"} {
			if err := e.s.Bury(e.ctx, job(sid, dest), "event older than 72 hours", "event_too_old"); err != nil {
				t.Fatalf("Bury = %v", err)
			}
		}
	}
	check("bury")
	got, err := e.s.Tallies(e.ctx)
	if err != nil {
		t.Fatalf("Tallies() = %v", err)
	}
	wantSameJSON(t, "dead groups", got.DeadGroups, []store.DeadGroup{
		{Kind: store.DeadSend, Code: "event_too_old", Reason: "event older than 72 hours", Count: 6},
		{Kind: store.DeadProcessing, Code: "EXPIRED_CLICK", Reason: "rejected by Google: EXPIRED_CLICK", Count: 1},
		{Kind: store.DeadSend, Code: "400", Reason: "bad request", Count: 1},
	})
	wantSameJSON(t, "destinations", got.Destinations, []store.DestinationTally{
		{Destination: "ads", Done: 1, Dead: 3, Counted: 1, Rejected: 1},
		{Destination: "ads-api", Done: 1, Dead: 3, Counted: 1},
		{Destination: "web", Pending: 1, Done: 1, Dead: 2, Sent: 1},
	})

	if err := e.s.RetryDead(e.ctx, forwarder.DeliveryID("CA-t-2", "r", "web")); err != nil {
		t.Fatalf("RetryDead = %v", err)
	}
	for _, dest := range []string{"web", "ads"} {
		if err := e.s.DropDead(e.ctx, forwarder.DeliveryID("CA-t-3", "r", dest)); err != nil {
			t.Fatalf("DropDead = %v", err)
		}
	}
	if err := e.s.DropDead(e.ctx, forwarder.DeliveryID("CA-t-1", "r", "ads")); err != nil {
		t.Fatalf("DropDead = %v", err)
	}
	check("retry dead, drop dead")
	call := newCall("CA-t-3")
	if _, err := e.s.Replan(e.ctx, "CA-t-3", append(tallyPlan(call, "r"), tallyPlan(call, "r2")...), store.ReplanOptions{}); err != nil {
		t.Fatalf("Replan = %v", err)
	}
	check("replan")
	if _, err := e.s.Replan(e.ctx, "CA-t-3", tallyPlan(call, "r"), store.ReplanOptions{IncludeDropped: true}); err != nil {
		t.Fatalf("Replan = %v", err)
	}
	check("replan of the dropped")

	// Past the window: Sweep removes the calls, done marks and
	// tombstones; a call accepted again replaces its expired done marks.
	e.clock.Advance(window + time.Hour)
	accept("CA-t-0", forwarder.EventComplete)
	check("accept after the window")
	if _, err := e.s.Sweep(e.ctx); err != nil {
		t.Fatalf("Sweep = %v", err)
	}
	check("sweep")
}

// testTalliesRandom runs random operations (a fixed seed) and checks the
// tallies against a recount at intervals.
func testTalliesRandom(t *testing.T, e *env) {
	sids := randomOps(t, e, 600, 50)
	e.wantTallies(t, sids)
}

// RandomWrites runs n random writes of every kind (a fixed seed) on s,
// with clock (s's clock) advancing, and returns the Sids it wrote. An
// upgrade test runs it on a store before removing its tallies.
func RandomWrites(t *testing.T, s store.Store, clock *Clock, n int) []string {
	t.Helper()
	return randomOps(t, &env{s: s, clock: clock, ctx: t.Context()}, n, 0)
}

// randomOps runs n random operations, checking the tallies every check
// of them (never when check is 0), and returns the Sids it wrote.
func randomOps(t *testing.T, e *env, ops, check int) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(14, 2026))
	var sids []string
	var held []store.Job // claimed jobs not settled yet
	reasons := [][2]string{{"bad request", "400"}, {"event older than 72 hours", "event_too_old"}, {"forbidden", "403"}}
	verdicts := []forwarder.Verdict{
		{Outcome: forwarder.OutcomeCounted}, {Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"},
		{Outcome: forwarder.OutcomeUnknown}, {Outcome: forwarder.OutcomeRejected, Reason: "INVALID_GCLID"},
	}
	pick := func(n int) int { return rng.IntN(n) }
	takeHeld := func() (store.Job, bool) {
		if len(held) == 0 {
			return store.Job{}, false
		}
		i := pick(len(held))
		j := held[i]
		held = slices.Delete(held, i, i+1)
		return j, true
	}
	deadIDs := func() []string {
		dead, err := e.s.DeadLetters(e.ctx, 0)
		if err != nil {
			t.Fatalf("DeadLetters = %v", err)
		}
		ids := make([]string, len(dead))
		for i, d := range dead {
			ids[i] = d.Job.Delivery.ID
		}
		return ids
	}
	for op := range ops {
		switch k := pick(100); {
		case k < 20: // accept a new call, or an event of an old one
			sid := fmt.Sprintf("CA-r-%d", len(sids))
			event := forwarder.EventInitiate
			if len(sids) > 0 && pick(3) == 0 {
				sid, event = sids[pick(len(sids))], forwarder.EventComplete
			}
			call := newCall(sid)
			call.Event = event
			var ds []forwarder.Delivery
			for _, rule := range []string{"a", "b"}[:1+pick(2)] {
				ds = append(ds, tallyPlan(call, rule)...)
			}
			err := e.s.Accept(e.ctx, call, ds)
			if err != nil && !errorsIsDuplicate(err) {
				t.Fatalf("op %d: Accept(%s) = %v", op, sid, err)
			}
			if !slices.Contains(sids, sid) {
				sids = append(sids, sid)
			}
		case k < 35:
			held = append(held, e.claim(t, 1+pick(6))...)
		case k < 45: // ack some held jobs, maybe under a poll
			var batch []store.Job
			for range 1 + pick(3) {
				if j, ok := takeHeld(); ok {
					if pick(4) == 0 {
						j.Verdict = &verdicts[pick(len(verdicts))]
					}
					batch = append(batch, j)
				}
			}
			if pick(2) == 0 {
				e.s.AckPolled(e.ctx, batch, pollOf(fmt.Sprintf("req-%d", op), batch))
			} else {
				e.s.AckMany(e.ctx, batch)
			}
		case k < 52:
			if j, ok := takeHeld(); ok {
				if pick(3) == 0 {
					j.Verdict = &verdicts[pick(len(verdicts))]
				}
				if err := e.s.Retry(e.ctx, j, e.clock.Now().Add(time.Duration(pick(90))*time.Minute), "later"); err != nil && !errorsIsLeaseLost(err) {
					t.Fatalf("op %d: Retry = %v", op, err)
				}
			}
		case k < 60:
			if j, ok := takeHeld(); ok {
				r := reasons[pick(len(reasons))]
				if err := e.s.Bury(e.ctx, j, r[0], r[1]); err != nil && !errorsIsLeaseLost(err) {
					t.Fatalf("op %d: Bury = %v", op, err)
				}
			}
		case k < 68: // Google reports on a request
			polls, err := e.s.ClaimPolls(e.ctx, 1+pick(2))
			if err != nil {
				t.Fatalf("op %d: ClaimPolls = %v", op, err)
			}
			for _, p := range polls {
				vs := make([]forwarder.Verdict, len(p.Items))
				for i := range vs {
					vs[i] = verdicts[pick(len(verdicts))]
				}
				if err := e.s.ResolvePoll(e.ctx, p, vs); err != nil && !errorsIsLeaseLost(err) {
					t.Fatalf("op %d: ResolvePoll = %v", op, err)
				}
			}
		case k < 74:
			if ids := deadIDs(); len(ids) > 0 {
				if err := e.s.RetryDead(e.ctx, ids[pick(len(ids))]); err != nil {
					t.Fatalf("op %d: RetryDead = %v", op, err)
				}
			}
		case k < 80:
			if ids := deadIDs(); len(ids) > 0 {
				if err := e.s.DropDead(e.ctx, ids[pick(len(ids))]); err != nil {
					t.Fatalf("op %d: DropDead = %v", op, err)
				}
			}
		case k < 85:
			if len(sids) > 0 {
				sid := sids[pick(len(sids))]
				call := newCall(sid)
				ds := tallyPlan(call, []string{"a", "b", "c"}[pick(3)])
				_, err := e.s.Replan(e.ctx, sid, ds, store.ReplanOptions{IncludeDropped: pick(2) == 0})
				if err != nil && !errorsIsNotFound(err) {
					t.Fatalf("op %d: Replan = %v", op, err)
				}
			}
		case k < 88:
			if _, err := e.s.Sweep(e.ctx); err != nil {
				t.Fatalf("op %d: Sweep = %v", op, err)
			}
		case k < 92:
			// A held job may lose its lease; settling it then is
			// ErrLeaseLost and changes nothing.
			e.clock.Advance(time.Duration(1+pick(120)) * time.Minute)
		case k < 93:
			e.clock.Advance(window / time.Duration(1+pick(3)))
		default:
			e.clock.Advance(time.Duration(pick(600)) * time.Second)
		}
		if check > 0 && op%check == check-1 {
			e.wantTallies(t, sids)
		}
	}
	return sids
}

func errorsIsDuplicate(err error) bool { return errors.Is(err, store.ErrDuplicate) }
func errorsIsLeaseLost(err error) bool { return errors.Is(err, store.ErrLeaseLost) }
func errorsIsNotFound(err error) bool  { return errors.Is(err, store.ErrNotFound) }

// testTalliesHours: a call counts in the UTC hour of its latest
// acceptance, for TallyKeep; Sweep prunes older hours, and an hour
// outside the range is never reported.
func testTalliesHours(t *testing.T, e *env) {
	e.accept(t, "CA-h-1", "r")
	first := store.TallyHour(e.clock.Now())
	e.clock.Advance(time.Hour)
	e.accept(t, "CA-h-2", "r")
	e.accept(t, "CA-h-3", "r")
	second := store.TallyHour(e.clock.Now())
	hours := func() []store.HourTally {
		t.Helper()
		got, err := e.s.Tallies(e.ctx)
		if err != nil {
			t.Fatalf("Tallies() = %v", err)
		}
		return got.Hours
	}
	wantSameJSON(t, "hours", hours(), []store.HourTally{{Hour: first, Calls: 1}, {Hour: second, Calls: 2}})
	e.clock.Advance(store.TallyKeep - 30*time.Minute)
	wantSameJSON(t, "hours, the first one past TallyKeep", hours(), []store.HourTally{{Hour: second, Calls: 2}})
	if _, err := e.s.Sweep(e.ctx); err != nil {
		t.Fatalf("Sweep = %v", err)
	}
	// The calls outlived the dedup window: Sweep removed them.
	wantSameJSON(t, "hours after Sweep", hours(), []store.HourTally{})
	e.wantTallies(t, []string{"CA-h-1", "CA-h-2", "CA-h-3"})
}
