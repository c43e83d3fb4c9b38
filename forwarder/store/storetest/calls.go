package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

var callTests = []subtest{
	{"calls/newest first, a page at a time", testListCallsPages},
	{"calls/filters", testListCallsFilters},
	{"calls/outcomes", testListCallsOutcomes},
	{"calls/a selective filter examines a bounded page", testListCallsBounded},
	{"calls/bad state or cursor", testListCallsBad},
}

// listCalls reads one page, failing the test on error.
func (e *env) listCalls(t *testing.T, f store.CallFilter, cursor string, limit int) ([]store.CallSummary, string) {
	t.Helper()
	calls, next, err := e.s.ListCalls(e.ctx, f, cursor, limit)
	if err != nil {
		t.Fatalf("ListCalls(%+v, %q, %d) = %v, want nil", f, cursor, limit, err)
	}
	return calls, next
}

// listAll reads every page of f, limit calls at a time, and returns the
// Sids and the number of pages.
func (e *env) listAll(t *testing.T, f store.CallFilter, limit int) (sids []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		calls, next := e.listCalls(t, f, cursor, limit)
		pages++
		if size, _ := store.CallPage(limit); len(calls) > size {
			t.Fatalf("ListCalls page of %d calls, limit %d", len(calls), limit)
		}
		for _, c := range calls {
			sids = append(sids, c.Sid)
		}
		if next == "" {
			return sids, pages
		}
		if pages > 1000 {
			t.Fatalf("ListCalls(%+v) never ends", f)
		}
		cursor = next
	}
}

func testListCallsPages(t *testing.T, e *env) {
	var want []string
	for i := range 25 {
		sid := fmt.Sprintf("CA-p-%02d", i)
		e.accept(t, sid, "r1", "r2")
		want = append(want, sid)
		e.clock.Advance(time.Second)
	}
	slices.Reverse(want)

	first, next := e.listCalls(t, store.CallFilter{}, "", 10)
	if next == "" || len(first) != 10 {
		t.Fatalf("first page = %d calls, next %q; want 10 and a cursor", len(first), next)
	}
	top := first[0]
	if top.Sid != "CA-p-24" || top.Event != forwarder.EventComplete || !top.At.Equal(epoch.Add(24*time.Second)) || len(top.Jobs) != 2 {
		t.Fatalf("newest call = %+v, want CA-p-24, %s, at %v, 2 jobs", top, forwarder.EventComplete, epoch.Add(24*time.Second))
	}
	// A call accepted meanwhile does not shift the pages that follow.
	e.accept(t, "CA-p-new", "r1")
	got := []string{}
	for _, c := range first {
		got = append(got, c.Sid)
	}
	for cursor := next; cursor != ""; {
		var calls []store.CallSummary
		calls, cursor = e.listCalls(t, store.CallFilter{}, cursor, 10)
		for _, c := range calls {
			got = append(got, c.Sid)
		}
	}
	wantIDs(t, "calls, page by page", got, want)

	all, pages := e.listAll(t, store.CallFilter{}, 0)
	wantIDs(t, "calls with the default page", all, append([]string{"CA-p-new"}, want...))
	if pages != 1 {
		t.Fatalf("default page: %d pages for 26 calls, want 1", pages)
	}
}

// planAds returns the Google Ads delivery of call under rule.
func planAds(call *forwarder.Call, rule string) []forwarder.Delivery {
	return []forwarder.Delivery{{
		ID:          forwarder.DeliveryID(call.Sid, rule, "ads"),
		CallSid:     call.Sid,
		Rule:        rule,
		Destination: "ads",
		Type:        forwarder.DestinationGoogleAds,
		CallTime:    call.StartDate,
		Ads:         &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager, GCLID: call.GCLID},
	}}
}

func testListCallsFilters(t *testing.T, e *env) {
	t0 := e.clock.Now()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }

	// done (GA4, sent), dead, counted, rejected, awaiting (Google Ads),
	// pending, a second apart.
	e.accept(t, "CA-f-done", "r")
	j := e.claimOne(t, deliveryID("CA-f-done", "r"))
	j.Verdict = &forwarder.Verdict{Outcome: forwarder.OutcomeSent}
	if err := e.s.Ack(e.ctx, j); err != nil {
		t.Fatalf("Ack = %v", err)
	}
	e.clock.Advance(time.Second)
	e.bury(t, "CA-f-dead", "bad", "400")
	var ads []store.Job
	for _, sid := range []string{"CA-f-counted", "CA-f-rejected", "CA-f-awaiting"} {
		e.clock.Advance(time.Second)
		call := newCall(sid)
		if err := e.s.Accept(e.ctx, call, planAds(call, "r")); err != nil {
			t.Fatalf("Accept(%s) = %v", sid, err)
		}
		ads = append(ads, e.claimOne(t, forwarder.DeliveryID(sid, "r", "ads")))
	}
	e.ackPolled(t, ads[:2], pollOf("req-a", ads[:2]))
	e.ackPolled(t, ads[2:], pollOf("req-b", ads[2:]))
	e.clock.Advance(time.Second)
	e.accept(t, "CA-f-pending", "lead")
	e.clock.Advance(30 * time.Minute)
	ps := e.claimPolls(t, 1)
	if len(ps) != 1 || ps[0].RequestID != "req-a" {
		t.Fatalf("ClaimPolls(1) = %v, want [req-a]", requestIDs(ps))
	}
	verdicts := []forwarder.Verdict{{Outcome: forwarder.OutcomeCounted}, {Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"}}
	if err := e.s.ResolvePoll(e.ctx, ps[0], verdicts); err != nil {
		t.Fatalf("ResolvePoll = %v", err)
	}

	tests := []struct {
		f    store.CallFilter
		want []string
	}{
		{store.CallFilter{}, []string{"CA-f-pending", "CA-f-awaiting", "CA-f-rejected", "CA-f-counted", "CA-f-dead", "CA-f-done"}},
		{store.CallFilter{State: "pending"}, []string{"CA-f-pending"}},
		{store.CallFilter{State: "done"}, []string{"CA-f-awaiting", "CA-f-counted", "CA-f-done"}},
		{store.CallFilter{State: "dead"}, []string{"CA-f-rejected", "CA-f-dead"}},
		{store.CallFilter{State: "rejected"}, []string{"CA-f-rejected"}},
		{store.CallFilter{State: "counted"}, []string{"CA-f-counted"}},
		{store.CallFilter{State: "awaiting"}, []string{"CA-f-awaiting"}},
		{store.CallFilter{State: "sent"}, []string{"CA-f-done"}},
		{store.CallFilter{State: "unknown"}, nil},
		{store.CallFilter{Rule: "lead"}, []string{"CA-f-pending"}},
		{store.CallFilter{Destination: "ads"}, []string{"CA-f-awaiting", "CA-f-rejected", "CA-f-counted"}},
		{store.CallFilter{State: "dead", Destination: "ads"}, []string{"CA-f-rejected"}},
		{store.CallFilter{State: "pending", Destination: "ads"}, nil},
		{store.CallFilter{Sid: "CA-f-d"}, []string{"CA-f-dead", "CA-f-done"}},
		{store.CallFilter{Since: at(3)}, []string{"CA-f-pending", "CA-f-awaiting", "CA-f-rejected"}},
		{store.CallFilter{Until: at(1)}, []string{"CA-f-dead", "CA-f-done"}},
		{store.CallFilter{Since: at(1), Until: at(3)}, []string{"CA-f-rejected", "CA-f-counted", "CA-f-dead"}},
		{store.CallFilter{Since: at(6)}, nil},
	}
	for _, tc := range tests {
		for _, limit := range []int{1, 4} {
			got, _ := e.listAll(t, tc.f, limit)
			wantIDs(t, fmt.Sprintf("ListCalls(%+v) by %d", tc.f, limit), got, tc.want)
		}
	}
	// The summary carries every job of the call, the verdict included.
	calls, _ := e.listCalls(t, store.CallFilter{State: "rejected"}, "", 10)
	if len(calls) != 1 || len(calls[0].Jobs) != 1 || calls[0].Jobs[0].Kind != store.DeadProcessing ||
		calls[0].Jobs[0].Job.Verdict == nil || calls[0].Jobs[0].Job.Verdict.Reason != "EXPIRED_CLICK" {
		t.Fatalf("rejected call = %+v, want its processing dead letter with its verdict", calls)
	}
}

// planAdsAPI returns the Google Ads API delivery of call under rule.
func planAdsAPI(call *forwarder.Call, rule string) []forwarder.Delivery {
	ds := planAds(call, rule)
	ds[0].Ads.Backend = forwarder.AdsBackendGoogleAdsAPI
	return ds
}

// testListCallsOutcomes filters by the outcomes no poll reports: a GA4
// hit acknowledged is sent, a Google Ads API conversion acknowledged is
// counted, one buried with Google's rejection is rejected, and one buried
// by a local check (no verdict) is a dead letter only.
func testListCallsOutcomes(t *testing.T, e *env) {
	e.accept(t, "CA-o-sent", "r")
	if err := e.s.Ack(e.ctx, e.claimOne(t, deliveryID("CA-o-sent", "r"))); err != nil {
		t.Fatalf("Ack = %v", err)
	}
	tests := []struct {
		sid     string
		verdict *forwarder.Verdict // buried with it; nil with bury: a local failure
		bury    bool
	}{
		{"CA-o-counted", nil, false},
		{"CA-o-rejected", &forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "INVALID_CONVERSION_ACTION"}, true},
		{"CA-o-local", nil, true},
	}
	for _, tc := range tests {
		e.clock.Advance(time.Second)
		call := newCall(tc.sid)
		if err := e.s.Accept(e.ctx, call, planAdsAPI(call, "r")); err != nil {
			t.Fatalf("Accept(%s) = %v", tc.sid, err)
		}
		j := e.claimOne(t, forwarder.DeliveryID(tc.sid, "r", "ads"))
		j.Verdict = tc.verdict
		var err error
		if tc.bury {
			err = e.s.Bury(e.ctx, j, "refused", "INVALID_CONVERSION_ACTION")
		} else {
			err = e.s.Ack(e.ctx, j)
		}
		if err != nil {
			t.Fatalf("settle %s = %v", tc.sid, err)
		}
	}
	for _, tc := range []struct {
		state string
		want  []string
	}{
		{"sent", []string{"CA-o-sent"}},
		{"counted", []string{"CA-o-counted"}},
		{"rejected", []string{"CA-o-rejected"}},
		{"dead", []string{"CA-o-local", "CA-o-rejected"}},
		{"awaiting", nil},
	} {
		got, _ := e.listAll(t, store.CallFilter{State: tc.state}, 10)
		wantIDs(t, "ListCalls(state "+tc.state+")", got, tc.want)
	}
	info := e.job(t, "CA-o-rejected", forwarder.DeliveryID("CA-o-rejected", "r", "ads"))
	if v := info.Outcome(); v == nil || v.Outcome != forwarder.OutcomeRejected || v.Reason != "INVALID_CONVERSION_ACTION" {
		t.Fatalf("Outcome() of the buried rejection = %+v, want rejected INVALID_CONVERSION_ACTION", v)
	}
}

// testListCallsBounded lists with a filter only the oldest of many calls
// passes: each page examines at most its budget, so the first pages are
// empty with a cursor, and the call comes on the last.
func testListCallsBounded(t *testing.T, e *env) {
	const calls, limit = 100, 5
	for i := range calls {
		rule := "r"
		if i == 0 {
			rule = "needle"
		}
		e.accept(t, fmt.Sprintf("CA-b-%03d", i), rule)
		e.clock.Advance(time.Millisecond)
	}
	_, budget := store.CallPage(limit)
	f := store.CallFilter{Rule: "needle"}
	cursor := ""
	for page := 1; ; page++ {
		got, next := e.listCalls(t, f, cursor, limit)
		last := page*budget >= calls
		switch {
		case !last && (len(got) != 0 || next == ""):
			t.Fatalf("page %d = %d calls, next %q; want none and a cursor", page, len(got), next)
		case last && (len(got) != 1 || got[0].Sid != "CA-b-000" || next != ""):
			t.Fatalf("page %d = %+v, next %q; want CA-b-000 and no cursor", page, got, next)
		case last:
			return
		}
		cursor = next
	}
}

func testListCallsBad(t *testing.T, e *env) {
	e.accept(t, "CA-bad", "r")
	for _, tc := range []struct {
		f      store.CallFilter
		cursor string
	}{
		{store.CallFilter{State: "lost"}, ""},
		{store.CallFilter{}, "not-a-cursor"},
		{store.CallFilter{}, "0123"},
	} {
		if _, _, err := e.s.ListCalls(e.ctx, tc.f, tc.cursor, 10); err == nil {
			t.Fatalf("ListCalls(%+v, %q) = nil, want an error", tc.f, tc.cursor)
		}
	}
}
