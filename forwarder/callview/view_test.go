package callview

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

// Personal data of the sample call; no view may show any of it whole.
const (
	samplePhone    = "+61412345678"
	sampleClientID = "1234567890.1700000000"
	sampleGCLID    = "Cj0KCQiAgJa6BhCOARIsAMiL7V8example"
)

func sampleCall() *forwarder.Call {
	d := 95
	return &forwarder.Call{
		Sid: "CA100", Event: forwarder.EventComplete, PropertySid: "PR1",
		StartDate: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Duration: &d,
		Disposition: forwarder.DispositionAnswered, From: samplePhone, To: "+61299990000",
		GAClientID: sampleClientID, GCLID: sampleGCLID,
		Session: forwarder.Session{LandingURI: "https://example.com/quote?gclid=" + sampleGCLID + "&x=1#top"},
		Extra:   map[string]string{"Call.Custom": samplePhone},
	}
}

const sampleRules = `
destinations:
  web:
    type: ga4
    measurement_id: G-VIEWTEST1
rules:
  - name: every-call
    send:
      - to: web
        event: phone_call
  - name: short-call
    when:
      max_duration: 30
    send:
      - to: web
        event: short_call
`

func TestNewCallViewMasksAndExplains(t *testing.T) {
	rules, err := mapping.Parse("rules.yaml", []byte(sampleRules))
	if err != nil {
		t.Fatal(err)
	}
	call := sampleCall()
	planned := rules.Evaluate(call)
	if len(planned) != 1 {
		t.Fatalf("planned %d deliveries, want 1", len(planned))
	}
	arrived := time.Date(2026, 12, 1, 9, 2, 0, 0, time.UTC)
	jobs := []store.JobInfo{{Job: store.Job{Delivery: planned[0], Attempts: 1, History: []store.Attempt{
		{At: arrived, Took: 40 * time.Millisecond, Result: store.AttemptDelivered},
	}}, State: store.JobDone}}
	v := NewCallView(call, arrived, jobs, rules.Explain(call))

	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{samplePhone, sampleClientID, sampleGCLID, "412345678", "1700000000", "iAgJa6"} {
		if strings.Contains(string(js), secret) {
			t.Errorf("the view shows %q: %s", secret, js)
		}
	}
	checks := []struct{ name, got, want string }{
		{"from", v.Call.From, "•••678"},
		{"client id", v.Call.GAClientID, "1234…"},
		{"gclid", v.Call.GCLID, "Cj0K…"},
		{"landing page", v.Call.LandingPage, "https://example.com/quote"},
		{"extra", strings.Join(v.Call.Extra, ","), "Call.Custom"},
		{"rules note", v.RulesNote, RulesNote},
		{"first rule plans", strings.Join(v.Rules[0].Plans, ","), planned[0].ID},
		{"outcome", v.Deliveries[0].Outcome, "sent (GA4 does not report processing)"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if len(v.Rules) != 2 || v.Rules[1].Matched || !strings.Contains(v.Rules[1].Reason, "95 seconds") {
		t.Errorf("rules = %+v, want every-call matched and short-call refused on its duration", v.Rules)
	}
	if !v.Arrived.Equal(arrived) || len(v.Deliveries[0].History) != 1 {
		t.Errorf("arrived %v, history %v", v.Arrived, v.Deliveries[0].History)
	}
}

func TestOutcome(t *testing.T) {
	dm := forwarder.Delivery{Type: forwarder.DestinationGoogleAds, Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager}}
	adsAPI := forwarder.Delivery{Type: forwarder.DestinationGoogleAds, Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendGoogleAdsAPI}}
	ga4 := forwarder.Delivery{Type: forwarder.DestinationGA4}
	ua := forwarder.Delivery{Type: forwarder.DestinationUA}
	rejected := &forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK"}
	tests := []struct {
		name        string
		job         store.JobInfo
		want        string
		wantOutcome forwarder.Outcome
	}{
		{"pending", store.JobInfo{Job: store.Job{Delivery: dm}, State: store.JobPending}, "pending", ""},
		{"retrying", store.JobInfo{Job: store.Job{Delivery: dm, Attempts: 2}, State: store.JobPending}, "pending (retrying)", ""},
		{"dead letter", store.JobInfo{Job: store.Job{Delivery: ga4}, State: store.JobDead}, "dead letter (not delivered)", ""},
		{"dropped", store.JobInfo{Job: store.Job{Delivery: ga4}, State: store.JobDropped}, "dropped by an operator", ""},
		{"ga4 delivered", store.JobInfo{Job: store.Job{Delivery: ga4}, State: store.JobDone}, "sent (GA4 does not report processing)", forwarder.OutcomeSent},
		{"ua delivered", store.JobInfo{Job: store.Job{Delivery: ua}, State: store.JobDone}, "sent (Universal Analytics does not report processing)", forwarder.OutcomeSent},
		{"ads api delivered", store.JobInfo{Job: store.Job{Delivery: adsAPI}, State: store.JobDone}, "counted; Google Ads API answered synchronously", forwarder.OutcomeCounted},
		{"data manager awaiting", store.JobInfo{Job: store.Job{Delivery: dm}, State: store.JobDone}, "awaiting", forwarder.OutcomeAwaiting},
		{"data manager counted", store.JobInfo{Job: store.Job{Delivery: dm, Verdict: &forwarder.Verdict{Outcome: forwarder.OutcomeCounted}}, State: store.JobDone}, "counted", forwarder.OutcomeCounted},
		{"rejected in processing", store.JobInfo{Job: store.Job{Delivery: dm, Verdict: rejected}, State: store.JobDead}, "rejected by Google: EXPIRED_CLICK", forwarder.OutcomeRejected},
		{"unknown", store.JobInfo{Job: store.Job{Delivery: dm, Verdict: &forwarder.Verdict{Outcome: forwarder.OutcomeUnknown}}, State: store.JobDone}, "unknown", forwarder.OutcomeUnknown},
		{"ads api rejected in the reply", store.JobInfo{Job: store.Job{Delivery: adsAPI, Verdict: forwarder.Classify(forwarder.Rejected("EXPIRED_EVENT", nil)).Verdict()}, State: store.JobDead}, "rejected by Google: EXPIRED_EVENT", forwarder.OutcomeRejected},
		{"ads api failed a local check", store.JobInfo{Job: store.Job{Delivery: adsAPI, Verdict: forwarder.Classify(forwarder.Permanent("NO_CREDENTIALS", nil)).Verdict()}, State: store.JobDead}, "dead letter (not delivered)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, got := Outcome(tt.job)
			if got != tt.want {
				t.Errorf("Outcome = %q, want %q", got, tt.want)
			}
			var o forwarder.Outcome
			if v != nil {
				o = v.Outcome
			}
			if o != tt.wantOutcome {
				t.Errorf("verdict outcome = %q, want %q", o, tt.wantOutcome)
			}
			// The state filter follows the same rule as the view.
			if o != "" && !(store.CallFilter{State: string(o)}).Keep("CA1", []store.JobInfo{tt.job}) {
				t.Errorf("state filter %q does not keep the job", o)
			}
		})
	}
}

func TestDeliveryViewRequestID(t *testing.T) {
	j := store.JobInfo{State: store.JobPending, Job: store.Job{History: []store.Attempt{
		{Result: store.AttemptRetry, Code: "HTTP_503"},
		{Result: store.AttemptDelivered, RequestID: "req-1"},
		{Result: store.AttemptRetry, Code: "HTTP_503"},
	}}}
	if got := NewDeliveryView(j).RequestID; got != "req-1" {
		t.Errorf("RequestID = %q, want req-1", got)
	}
}

func TestQueryFilter(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		q       Query
		want    store.CallFilter
		wantErr string
	}{
		{"empty", Query{}, store.CallFilter{}, ""},
		{"duration", Query{Since: "24h", State: "rejected", Rule: "r", Destination: "d", Sid: "CA"},
			store.CallFilter{Since: now.Add(-24 * time.Hour), State: "rejected", Rule: "r", Destination: "d", Sid: "CA"}, ""},
		{"time", Query{Since: "2026-12-01T00:00:00Z"}, store.CallFilter{Since: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}, ""},
		{"bad state", Query{State: "lost"}, store.CallFilter{}, `state "lost"`},
		{"bad since", Query{Since: "yesterday"}, store.CallFilter{}, `since "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.q.Filter(now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.Since.Equal(tt.want.Since) || got.State != tt.want.State || got.Rule != tt.want.Rule ||
				got.Destination != tt.want.Destination || got.Sid != tt.want.Sid {
				t.Errorf("Filter = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
