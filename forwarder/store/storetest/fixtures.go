package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// newCall returns a completed call with sid.
func newCall(sid string) *forwarder.Call {
	duration, value := 95, 50
	return &forwarder.Call{
		Action:       "Call.Complete",
		Event:        forwarder.EventComplete,
		AccountSid:   "AC0001",
		PropertySid:  "PR0001",
		PropertyName: "Test Plumbing",
		Sid:          sid,
		StartDate:    epoch.Add(-5 * time.Minute),
		From:         "+61400000001",
		To:           "+61290000001",
		ToType:       "Dynamic",
		Duration:     &duration,
		Disposition:  forwarder.DispositionAnswered,
		Survey:       forwarder.Survey{Value: &value},
		Attribution:  forwarder.Attribution{Source: "google", Medium: "cpc"},
		GAClientID:   "1234567890.1700000000",
		GCLID:        "test-gclid",
		Extra:        map[string]string{"Call.Custom": "x"},
	}
}

// plan returns one GA4 delivery of call per rule.
func plan(call *forwarder.Call, rules ...string) []forwarder.Delivery {
	out := make([]forwarder.Delivery, 0, len(rules))
	for _, rule := range rules {
		out = append(out, forwarder.Delivery{
			ID:          forwarder.DeliveryID(call.Sid, rule, "web"),
			CallSid:     call.Sid,
			Rule:        rule,
			Destination: "web",
			Type:        forwarder.DestinationGA4,
			CallTime:    call.StartDate,
			GA4: &forwarder.GA4Event{
				MeasurementID: "G-TEST000001",
				ClientID:      call.GAClientID,
				Name:          rule,
				Params:        map[string]any{"duration": 95, "outcome": "ANSWERED"},
				Time:          call.StartDate,
			},
		})
	}
	return out
}

// deliveryID is the ID plan gives to the delivery of sid under rule.
func deliveryID(sid, rule string) string { return forwarder.DeliveryID(sid, rule, "web") }

// accept accepts a new call sid with one delivery per rule, failing the
// test on error.
func (e *env) accept(t *testing.T, sid string, rules ...string) *forwarder.Call {
	t.Helper()
	call := newCall(sid)
	if err := e.s.Accept(e.ctx, call, plan(call, rules...)); err != nil {
		t.Fatalf("Accept(%s) = %v, want nil", sid, err)
	}
	return call
}

// claim claims up to max jobs, failing the test on error.
func (e *env) claim(t *testing.T, max int) []store.Job {
	t.Helper()
	jobs, err := e.s.Claim(e.ctx, max)
	if err != nil {
		t.Fatalf("Claim(%d) = %v, want nil", max, err)
	}
	return jobs
}

// claimOne claims exactly the job id, failing the test otherwise.
func (e *env) claimOne(t *testing.T, id string) store.Job {
	t.Helper()
	jobs := e.claim(t, 1)
	if len(jobs) != 1 || jobs[0].Delivery.ID != id {
		t.Fatalf("Claim(1) = %v, want [%s]", jobIDs(jobs), id)
	}
	return jobs[0]
}

// wantNoClaim checks that no job is due.
func (e *env) wantNoClaim(t *testing.T) {
	t.Helper()
	if jobs := e.claim(t, 100); len(jobs) != 0 {
		t.Fatalf("at %v Claim(100) = %v, want none", e.clock.Now(), jobIDs(jobs))
	}
}

// wantStats checks the store's counts (EarliestDue aside: wantEarliestDue
// checks it).
func (e *env) wantStats(t *testing.T, want store.Stats) {
	t.Helper()
	got, err := e.s.Stats(e.ctx)
	if err != nil {
		t.Fatalf("Stats() = %v, want nil", err)
	}
	got.EarliestDue, want.EarliestDue = time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("Stats() = %+v, want %+v", got, want)
	}
}

// wantEarliestDue checks Stats().EarliestDue; a zero want means no job
// is pending.
func (e *env) wantEarliestDue(t *testing.T, want time.Time) {
	t.Helper()
	st, err := e.s.Stats(e.ctx)
	if err != nil {
		t.Fatalf("Stats() = %v, want nil", err)
	}
	if got := st.EarliestDue; got.IsZero() != want.IsZero() || !got.Equal(want) {
		t.Fatalf("at %v Stats().EarliestDue = %v, want %v", e.clock.Now(), got, want)
	}
}

// jobs returns the jobs of call sid, failing the test on error.
func (e *env) jobs(t *testing.T, sid string) []store.JobInfo {
	t.Helper()
	infos, err := e.s.Jobs(e.ctx, sid)
	if err != nil {
		t.Fatalf("Jobs(%s) = %v, want nil", sid, err)
	}
	return infos
}

// job returns the job id of call sid, failing the test when it is missing.
func (e *env) job(t *testing.T, sid, id string) store.JobInfo {
	t.Helper()
	for _, info := range e.jobs(t, sid) {
		if info.Job.Delivery.ID == id {
			return info
		}
	}
	t.Fatalf("Jobs(%s) has no job %s", sid, id)
	return store.JobInfo{}
}

// states returns "id=state" for each job, for compact comparisons.
func states(infos []store.JobInfo) []string {
	out := make([]string, len(infos))
	for i, info := range infos {
		out[i] = fmt.Sprintf("%s=%s", info.Job.Delivery.ID, info.State)
	}
	return out
}

// jobIDs returns the delivery IDs of jobs.
func jobIDs(jobs []store.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.Delivery.ID
	}
	return out
}

// wantIDs checks a list of IDs, order included.
func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// wantErr checks that err is target.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s = %v, want %v", what, err, target)
	}
}

// wantTime checks a time.
func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

// wantSameJSON checks that got and want encode to the same JSON, which
// ignores what a round trip through storage may change (time zones,
// numbers decoded as float64).
func wantSameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: encode got: %v", what, err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encode want: %v", what, err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// GA4Delivery is a GA4 delivery of sid under rule with the payload a
// rules file typically gives it.
func GA4Delivery(sid, rule string, at time.Time) forwarder.Delivery {
	return forwarder.Delivery{
		ID: forwarder.DeliveryID(sid, rule, "web"), CallSid: sid, Rule: rule, Destination: "web",
		Type: forwarder.DestinationGA4, CallTime: at,
		GA4: &forwarder.GA4Event{
			MeasurementID: "G-TEST000001", ClientID: "1234567890.1700000000", Name: rule,
			Params: map[string]any{
				"call_sid": sid, "duration": 95, "disposition": "ANSWERED", "source": "google",
				"medium": "cpc", "campaign": "spring-sale", "value": 50, "currency": "AUD",
				"property": "Test Plumbing", "tracking_number": "dynamic",
			},
			UserProperties: map[string]any{"caller_type": "new"},
			Time:           at,
			Consent:        &forwarder.GA4Consent{AdUserData: "GRANTED", AdPersonalization: "DENIED"},
		},
		Trace: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	}
}
