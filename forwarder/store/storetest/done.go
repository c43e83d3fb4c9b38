package storetest

import (
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

var doneTests = []subtest{
	{"done/acked jobs keep only what is read", testDoneShrinks},
	{"done/polled jobs keep their payload until resolved", testDonePolledShrinks},
	{"done/dead letters keep their payload and are sent again", testDeadKeepsPayload},
	{"done/replan of a delivered call", testDoneReplan},
}

// fullPlan returns one delivery of call under rule to each kind of
// destination, each with a payload and a trace: GA4 (web), Google Ads
// through Data Manager (ads) and through the Google Ads API (ads-api), and
// Universal Analytics (ua).
func fullPlan(call *forwarder.Call, rule string) []forwarder.Delivery {
	ds := tallyPlan(call, rule)
	value := 50.0
	ds[1].Ads.CustomerID, ds[1].Ads.ConversionAction, ds[1].Ads.Value = "1234567890", "customers/1234567890/conversionActions/1", &value
	ds[2].Ads.CustomerID, ds[2].Ads.ConversionAction, ds[2].Ads.TransactionID = "1234567890", "customers/1234567890/conversionActions/2", call.Sid
	ua := forwarder.Delivery{
		ID: forwarder.DeliveryID(call.Sid, rule, "ua"), CallSid: call.Sid, Rule: rule, Destination: "ua",
		Type: forwarder.DestinationUA, CallTime: call.StartDate,
		UA: &forwarder.UAHit{TrackingID: "UA-1-1", ClientID: call.GAClientID, Category: "call", Action: "answered", Time: call.StartDate},
	}
	ds = append(ds, ua)
	for i := range ds {
		ds[i].Trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	}
	return ds
}

// acceptFull accepts a call sid planned by fullPlan under rule "r" and
// claims its jobs, in plan order.
func (e *env) acceptFull(t *testing.T, sid string) (planned []forwarder.Delivery, claimed []store.Job) {
	t.Helper()
	call := newCall(sid)
	planned = fullPlan(call, "r")
	if err := e.s.Accept(e.ctx, call, planned); err != nil {
		t.Fatalf("Accept(%s) = %v, want nil", sid, err)
	}
	byID := map[string]store.Job{}
	for _, j := range e.claim(t, len(planned)) {
		byID[j.Delivery.ID] = j
	}
	for _, d := range planned {
		j, ok := byID[d.ID]
		if !ok {
			t.Fatalf("Claim did not hand out %s", d.ID)
		}
		claimed = append(claimed, j)
	}
	return planned, claimed
}

// wantDone checks that the job of d is done with what a done job keeps of
// d (store.DoneDelivery) and no payload, the attempts, history and verdict
// of the job acknowledged, and the outcome its destination implies.
func (e *env) wantDone(t *testing.T, d forwarder.Delivery, acked store.Job) {
	t.Helper()
	info := e.job(t, d.CallSid, d.ID)
	if info.State != store.JobDone {
		t.Fatalf("job %s is %s, want done", d.ID, info.State)
	}
	got := info.Job.Delivery
	if got.GA4 != nil || got.UA != nil || got.Ads != nil && *got.Ads != (forwarder.AdsConversion{Backend: got.Ads.Backend}) {
		t.Fatalf("done job %s kept its payload: %+v", d.ID, got)
	}
	wantSameJSON(t, "delivery of done job "+d.ID, got, store.DoneDelivery(d))
	if (d.Ads == nil) != (got.Ads == nil) || d.Ads != nil && got.Ads.Backend != d.Ads.Backend {
		t.Fatalf("done job %s: ads = %+v, want the backend of %+v", d.ID, got.Ads, d.Ads)
	}
	if info.Job.Attempts != acked.Attempts+1 || info.Job.Lease != "" {
		t.Fatalf("done job %s: attempts %d, lease %q; want %d, none", d.ID, info.Job.Attempts, info.Job.Lease, acked.Attempts+1)
	}
	wantSameJSON(t, "history of done job "+d.ID, info.Job.History, acked.History)
	wantSameJSON(t, "verdict of done job "+d.ID, info.Job.Verdict, acked.Verdict)
	want := store.JobInfo{Job: store.Job{Delivery: d, Verdict: acked.Verdict}, State: store.JobDone}
	wantSameJSON(t, "outcome of done job "+d.ID, info.Outcome(), want.Outcome())
}

// wantPayload checks that the job of d holds d whole.
func (e *env) wantPayload(t *testing.T, what string, d forwarder.Delivery) {
	t.Helper()
	wantSameJSON(t, what+" "+d.ID, e.job(t, d.CallSid, d.ID).Job.Delivery, d)
}

func testDoneShrinks(t *testing.T, e *env) {
	planned, jobs := e.acceptFull(t, "CA-done")
	for i := range jobs {
		jobs[i].History = attempts(i+1, store.AttemptDelivered)
	}
	jobs[2].Verdict = &forwarder.Verdict{Outcome: forwarder.OutcomeCounted}
	// Ack, AckMany, and AckPolled without a poll.
	if err := e.s.Ack(e.ctx, jobs[0]); err != nil {
		t.Fatalf("Ack = %v, want nil", err)
	}
	for i, err := range e.s.AckMany(e.ctx, jobs[1:3]) {
		if err != nil {
			t.Fatalf("AckMany result %d = %v, want nil", i, err)
		}
	}
	e.ackPolled(t, jobs[3:], store.Poll{})
	for i, d := range planned {
		e.wantDone(t, d, jobs[i])
	}
	e.wantStats(t, store.Stats{Calls: 1, Done: len(planned)})
	e.wantTallies(t, []string{"CA-done"})
}

func testDonePolledShrinks(t *testing.T, e *env) {
	planned, jobs := e.acceptFull(t, "CA-done-polled")
	ads := planned[1:3]
	for i := range jobs {
		jobs[i].History = attempts(1, store.AttemptDelivered)
	}
	// Both Google Ads jobs in the poll, the others acknowledged with it.
	p := pollOf("req-done", jobs[1:3])
	e.ackPolled(t, jobs, p)
	e.wantDone(t, planned[0], jobs[0])
	e.wantDone(t, planned[3], jobs[3])
	for _, d := range ads {
		e.wantPayload(t, "polled job before resolve", d)
	}
	e.clock.Advance(30 * time.Minute)
	ps := e.claimPolls(t, 1)
	if len(ps) != 1 {
		t.Fatalf("ClaimPolls = %v, want [req-done]", requestIDs(ps))
	}
	verdicts := []forwarder.Verdict{{Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"}, {}}
	if err := e.s.ResolvePoll(e.ctx, ps[0], verdicts); err != nil {
		t.Fatalf("ResolvePoll = %v, want nil", err)
	}
	// The rejected one is a dead letter with its payload; the one without
	// verdict stays done and keeps what a done job keeps.
	info := e.job(t, "CA-done-polled", ads[0].ID)
	if info.State != store.JobDead || info.Kind != store.DeadProcessing {
		t.Fatalf("rejected job = %s of kind %q, want dead of kind processing", info.State, info.Kind)
	}
	e.wantPayload(t, "processing dead letter", ads[0])
	e.wantDone(t, ads[1], jobs[2])
	e.wantStats(t, store.Stats{Calls: 1, Done: 3, Dead: 1})
	e.wantTallies(t, []string{"CA-done-polled"})

	// Retried, it is sent whole again, and shrinks once acknowledged.
	if err := e.s.RetryDead(e.ctx, ads[0].ID); err != nil {
		t.Fatalf("RetryDead = %v, want nil", err)
	}
	j := e.claimOne(t, ads[0].ID)
	wantSameJSON(t, "retried processing dead letter", j.Delivery, ads[0])
	j.Verdict = nil
	if err := e.s.Ack(e.ctx, j); err != nil {
		t.Fatalf("Ack = %v, want nil", err)
	}
	e.wantDone(t, ads[0], j)
	e.wantTallies(t, []string{"CA-done-polled"})
}

func testDeadKeepsPayload(t *testing.T, e *env) {
	planned, jobs := e.acceptFull(t, "CA-done-dead")
	for _, j := range jobs {
		if err := e.s.Bury(e.ctx, j, "bad request", "400"); err != nil {
			t.Fatalf("Bury(%s) = %v, want nil", j.Delivery.ID, err)
		}
	}
	dls := e.deadLetters(t, 0)
	if len(dls) != len(planned) {
		t.Fatalf("DeadLetters = %v, want the %d buried", deadIDs(dls), len(planned))
	}
	for _, d := range planned {
		e.wantPayload(t, "dead job", d)
		if err := e.s.RetryDead(e.ctx, d.ID); err != nil {
			t.Fatalf("RetryDead(%s) = %v, want nil", d.ID, err)
		}
		j := e.claimOne(t, d.ID)
		wantSameJSON(t, "retried dead letter", j.Delivery, d)
		if err := e.s.Ack(e.ctx, j); err != nil {
			t.Fatalf("Ack(%s) = %v, want nil", d.ID, err)
		}
		e.wantDone(t, d, j)
	}
	e.wantTallies(t, []string{"CA-done-dead"})
}

func testDoneReplan(t *testing.T, e *env) {
	planned, jobs := e.acceptFull(t, "CA-done-replan")
	e.ackPolled(t, jobs, store.Poll{})
	call := newCall("CA-done-replan")
	// The same plan adds nothing and leaves the done jobs as they are.
	n, err := e.s.Replan(e.ctx, call.Sid, fullPlan(call, "r"), store.ReplanOptions{IncludeDropped: true})
	if err != nil || n != 0 {
		t.Fatalf("Replan of the same plan = %d, %v; want 0, nil", n, err)
	}
	for i, d := range planned {
		e.wantDone(t, d, jobs[i])
	}
	// A new rule's deliveries are planned whole, from the plan given.
	more := fullPlan(call, "r2")
	n, err = e.s.Replan(e.ctx, call.Sid, append(fullPlan(call, "r"), more...), store.ReplanOptions{})
	if err != nil || n != len(more) {
		t.Fatalf("Replan with a new rule = %d, %v; want %d, nil", n, err, len(more))
	}
	byID := map[string]store.Job{}
	for _, j := range e.claim(t, len(more)) {
		byID[j.Delivery.ID] = j
	}
	for _, d := range more {
		e.wantPayload(t, "re-planned job", d)
		wantSameJSON(t, "claimed re-planned job", byID[d.ID].Delivery, d)
	}
	e.wantTallies(t, []string{"CA-done-replan"})
}
