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
	v := info.Job.Verdict
	switch f.State {
	case "":
		return true
	case string(JobPending), string(JobDone), string(JobDead), string(JobDropped):
		return string(info.State) == f.State
	case StateAwaiting:
		return info.State == JobDone && d.Ads != nil && d.Ads.Backend != forwarder.AdsBackendGoogleAdsAPI && (v == nil || !v.Outcome.Final())
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
