package store

import (
	"fmt"
	"strings"

	"github.com/callforward/callforward/forwarder"
)

// The page sizes of ListCalls.
const (
	// DefaultCallPage is the page size when the limit asked for is <= 0.
	DefaultCallPage = 50
	// MaxCallPage bounds a page.
	MaxCallPage = 1000
	// CallScanFactor bounds the calls one page examines: at most
	// CallScanFactor times its limit.
	CallScanFactor = 4
)

// CallPage returns the page size ListCalls uses for limit and the most
// calls the page examines.
func CallPage(limit int) (size, budget int) {
	switch {
	case limit <= 0:
		limit = DefaultCallPage
	case limit > MaxCallPage:
		limit = MaxCallPage
	}
	return limit, limit * CallScanFactor
}

// The states CallFilter.State takes besides the job states (pending,
// done, dead, dropped) and the final outcomes (counted, rejected,
// unknown, sent).
const (
	// StateAwaiting: a Data Manager delivery done without a final
	// verdict yet (Google has not reported on its request).
	StateAwaiting = string(forwarder.OutcomeAwaiting)
)

// Check reports whether f.State is one ListCalls knows.
func (f CallFilter) Check() error {
	switch f.State {
	case "", string(JobPending), string(JobDone), string(JobDead), string(JobDropped), StateAwaiting,
		string(forwarder.OutcomeCounted), string(forwarder.OutcomeRejected),
		string(forwarder.OutcomeUnknown), string(forwarder.OutcomeSent):
		return nil
	}
	return fmt.Errorf("unknown call state %q (want pending, done, dead, dropped, awaiting, counted, rejected, unknown or sent)", f.State)
}

// Keep reports whether the call sid, with its jobs, passes f (Since and
// Until aside: the backends bound their scan with them). State, Rule and
// Destination must hold for one and the same job: a call kept for
// State "rejected" and Destination "ads" has its delivery to ads rejected.
func (f CallFilter) Keep(sid string, jobs []JobInfo) bool {
	if !strings.HasPrefix(sid, f.Sid) {
		return false
	}
	if f.State == "" && f.Rule == "" && f.Destination == "" {
		return true
	}
	for _, info := range jobs {
		if f.keepJob(info) {
			return true
		}
	}
	return false
}

// keepJob reports whether one job passes State, Rule and Destination.
func (f CallFilter) keepJob(info JobInfo) bool {
	d := info.Job.Delivery
	if f.Rule != "" && d.Rule != f.Rule || f.Destination != "" && d.Destination != f.Destination {
		return false
	}
	switch f.State {
	case "":
		return true
	case string(JobPending), string(JobDone), string(JobDead), string(JobDropped):
		return string(info.State) == f.State
	}
	v := info.Outcome()
	if f.State == StateAwaiting {
		return info.State == JobDone && v != nil && !v.Outcome.Final()
	}
	return v != nil && string(v.Outcome) == f.State
}

// BoundHistory returns the latest MaxHistory attempts of h: what a
// settlement stores.
func BoundHistory(h []Attempt) []Attempt {
	if n := len(h) - MaxHistory; n > 0 {
		return h[n:]
	}
	return h
}

// ProcessingReason is the reason of the dead letter ResolvePoll makes of a
// delivery Google rejected in processing, e.g. "rejected by Google:
// EXPIRED_CLICK"; its code is v.Reason.
func ProcessingReason(v forwarder.Verdict) string {
	return forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: v.Reason}.String()
}

// Outcome is the verdict of the job, the one rule the filter, the views
// and the metrics share: the verdict stored with it (Google's processing
// report, or a rejection in Google's reply at the send), else for a
// delivered job the one its destination implies: GA4 and Universal
// Analytics report nothing after accepting a hit (sent), the Google Ads
// API answers each conversion synchronously (counted), and Data Manager
// processes a request later (awaiting). Nil for a job neither delivered
// nor judged by Google.
func (i JobInfo) Outcome() *forwarder.Verdict {
	if v := i.Job.Verdict; v != nil || i.State != JobDone {
		return v
	}
	switch a := i.Job.Delivery.Ads; {
	case a != nil && a.Backend == forwarder.AdsBackendGoogleAdsAPI:
		return &forwarder.Verdict{Outcome: forwarder.OutcomeCounted, Note: "Google Ads API answered synchronously"}
	case a != nil:
		return &forwarder.Verdict{Outcome: forwarder.OutcomeAwaiting}
	}
	return &forwarder.Verdict{Outcome: forwarder.OutcomeSent}
}
