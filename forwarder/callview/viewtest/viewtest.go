// Package viewtest fills a real store with calls in every state a view
// shows, for the tests of the views' readers (calls list and show, the
// read API), and names the personal data it used so a test can check that
// none of it is shown.
package viewtest

import (
	"context"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Personal data of the seeded calls: no output may show any of it.
const (
	Phone    = "+61412345678"
	ClientID = "1234567890.1700000000"
	GCLID    = "EXPIREDCj0KCQiAgJa6BhCOARIsAMiL7V8"
)

// Secrets lists the personal data (and recognisable parts of it) that
// must never appear in an output.
var Secrets = []string{Phone, "412345678", ClientID, "1700000000", GCLID, "Cj0KCQiAgJa6"}

// The seeded calls.
const (
	// SidGA4 has a GA4 delivery Google accepted after one retry.
	SidGA4 = "CAVIEW1"
	// SidRejected has a Data Manager delivery Google rejected in
	// processing (EXPIRED_CLICK): a dead letter of kind processing.
	SidRejected = "CAVIEW2"
	// SidAwaiting has a Data Manager delivery Google accepted and has not
	// reported on.
	SidAwaiting = "CAVIEW3"
	// SidDead has a GA4 delivery that failed for good.
	SidDead = "CAVIEW4"
)

// RequestRejected and RequestAwaiting are the Data Manager request ids.
const (
	RequestRejected = "req-rejected-1"
	RequestAwaiting = "req-awaiting-1"
)

// Call returns the seeded call sid (its personal data is the package's).
func Call(sid string, start time.Time) *forwarder.Call {
	d := 95
	return &forwarder.Call{
		Sid: sid, Event: forwarder.EventComplete, PropertySid: "PRVIEW", StartDate: start, Duration: &d,
		Disposition: forwarder.DispositionAnswered, From: Phone, To: "+61299990000",
		GAClientID: ClientID, GCLID: GCLID,
		Session: forwarder.Session{LandingURI: "https://example.com/?gclid=" + GCLID},
	}
}

func ga4(sid string, start time.Time) forwarder.Delivery {
	return forwarder.Delivery{
		ID: forwarder.DeliveryID(sid, "every-call", "website"), CallSid: sid, Rule: "every-call",
		Destination: "website", Type: forwarder.DestinationGA4, CallTime: start,
		GA4: &forwarder.GA4Event{MeasurementID: "G-HARBOUR01", ClientID: ClientID, Name: "phone_call", Time: start},
	}
}

func ads(sid string, start time.Time) forwarder.Delivery {
	return forwarder.Delivery{
		ID: forwarder.DeliveryID(sid, "ads-call", "ads"), CallSid: sid, Rule: "ads-call",
		Destination: "ads", Type: forwarder.DestinationGoogleAds, CallTime: start,
		Ads: &forwarder.AdsConversion{
			Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick, CustomerID: "1234567890",
			ConversionAction: "987", Time: start, GCLID: GCLID, TransactionID: sid + "/ads-call",
		},
	}
}

// Seed stores the four calls in st and settles their deliveries as their
// names say, through the store's own operations.
func Seed(t testing.TB, st store.Store) {
	t.Helper()
	ctx := context.Background()
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for _, c := range []struct {
		sid string
		d   forwarder.Delivery
	}{{SidGA4, ga4(SidGA4, start)}, {SidRejected, ads(SidRejected, start)}, {SidAwaiting, ads(SidAwaiting, start)}, {SidDead, ga4(SidDead, start)}} {
		if err := st.Accept(ctx, Call(c.sid, start), []forwarder.Delivery{c.d}); err != nil {
			t.Fatalf("accept %s: %v", c.sid, err)
		}
	}
	jobs := claim(t, st, 4)
	now := time.Now()
	for _, j := range jobs {
		switch j.Delivery.CallSid {
		case SidGA4:
			j.History = store.AppendAttempt(j.History, store.Attempt{At: now, Took: 120 * time.Millisecond, Result: store.AttemptRetry, Code: "HTTP_503", Error: "503 Service Unavailable"})
			if err := st.Retry(ctx, j, now.Add(-time.Second), "HTTP_503"); err != nil {
				t.Fatalf("retry: %v", err)
			}
		case SidDead:
			j.History = store.AppendAttempt(j.History, store.Attempt{At: now, Took: 80 * time.Millisecond, Result: store.AttemptDead, Code: "event_too_old", Error: "event older than 72 hours"})
			if err := st.Bury(ctx, j, "event older than 72 hours", "event_too_old"); err != nil {
				t.Fatalf("bury: %v", err)
			}
		default:
			req := RequestAwaiting
			if j.Delivery.CallSid == SidRejected {
				req = RequestRejected
			}
			j.History = store.AppendAttempt(j.History, store.Attempt{At: now, Took: 200 * time.Millisecond, Result: store.AttemptDelivered, RequestID: req})
			p := store.Poll{RequestID: req, Items: []store.PollItem{{DeliveryID: j.Delivery.ID}}, SentAt: now, DueAt: now.Add(-time.Second)}
			if req == RequestAwaiting {
				p.DueAt = now.Add(time.Hour)
			}
			if errs := st.AckPolled(ctx, []store.Job{j}, p); errs[0] != nil {
				t.Fatalf("ack polled: %v", errs[0])
			}
		}
	}
	retried := claim(t, st, 1)
	retried[0].History = store.AppendAttempt(retried[0].History, store.Attempt{At: time.Now(), Took: 90 * time.Millisecond, Result: store.AttemptDelivered})
	if err := st.Ack(ctx, retried[0]); err != nil {
		t.Fatalf("ack: %v", err)
	}
	polls, err := st.ClaimPolls(ctx, 10)
	if err != nil || len(polls) != 1 || polls[0].RequestID != RequestRejected {
		t.Fatalf("claim polls: %v %v; want the rejected request's poll", polls, err)
	}
	if err := st.ResolvePoll(ctx, polls[0], []forwarder.Verdict{{Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"}}); err != nil {
		t.Fatalf("resolve poll: %v", err)
	}
}

// claim claims exactly n jobs.
func claim(t testing.TB, st store.Store, n int) []store.Job {
	t.Helper()
	jobs, err := st.Claim(context.Background(), n+1)
	if err != nil || len(jobs) != n {
		t.Fatalf("claim: %d jobs, %v; want %d", len(jobs), err, n)
	}
	return jobs
}
