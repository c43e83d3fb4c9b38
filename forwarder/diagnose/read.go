package diagnose

import (
	"fmt"

	datamanager "google.golang.org/api/datamanager/v1"

	"github.com/callforward/callforward/forwarder"
)

// Google's per-destination request statuses (the API's enum spells FAILED).
const (
	statusSuccess = "SUCCESS"
	statusPartial = "PARTIAL_SUCCESS"
	statusFailed  = "FAILED"
)

// Read reads Google's answer to requestStatus:retrieve for one ingest
// request. destOf gives, for each event of the request in events[] order,
// the index of its destination in the request's destinations[] (Google
// answers one status per destination, in that order), or -1 for an event
// that is not followed (its delivery was settled otherwise, e.g. its lease
// was lost before the acknowledgement): Google's counts naming such an
// event are ignored and its verdict is left zero. done is false while
// any destination is still processing (or its status is unknown); the
// verdicts are then nil. Once done, verdicts has one entry per event:
//
//   - an event named by an error count's recordIndices is Rejected with
//     that reason, or Counted when the reason means Google already has
//     the conversion (a duplicate transaction id or click);
//   - an error count without indices applies to every event of its
//     destination that no indexed count named, and the verdict's note
//     says so;
//   - any other event of a SUCCESS or PARTIAL_SUCCESS destination is
//     Counted; of a FAILED destination, Rejected.
func Read(resp *datamanager.RetrieveRequestStatusResponse, destOf []int) (verdicts []forwarder.Verdict, done bool, err error) {
	if resp == nil || len(resp.RequestStatusPerDestination) == 0 {
		return nil, false, nil
	}
	statuses := resp.RequestStatusPerDestination
	for i, d := range destOf {
		if d >= len(statuses) {
			return nil, false, fmt.Errorf("request status: event %d belongs to destination %d, Google reported %d destinations", i, d, len(statuses))
		}
	}
	for _, st := range statuses {
		switch st.RequestStatus {
		case statusSuccess, statusPartial, statusFailed:
		default: // PROCESSING, REQUEST_STATUS_UNKNOWN, or a status added later
			return nil, false, nil
		}
	}

	verdicts = make([]forwarder.Verdict, len(destOf))
	for d, st := range statuses {
		members := eventsOf(destOf, d)
		var unindexed []*datamanager.ErrorCount
		if st.ErrorInfo != nil {
			for _, ec := range st.ErrorInfo.ErrorCounts {
				if ec == nil {
					continue
				}
				if len(ec.RecordIndices) == 0 {
					unindexed = append(unindexed, ec)
					continue
				}
				for _, idx := range ec.RecordIndices {
					if idx >= 0 && (int(idx) >= len(destOf) || destOf[idx] < 0) {
						continue // an event not followed
					}
					if idx < 0 || destOf[idx] != d {
						return nil, false, fmt.Errorf("request status: %s names record %d, which is not an event of destination %d", ec.Reason, idx, d)
					}
					if verdicts[idx].Outcome == "" {
						verdicts[idx] = errorVerdict(ec.Reason, "")
					}
				}
			}
		}
		for _, ec := range unindexed {
			note := fmt.Sprintf("Google counted %d event(s) with this reason without naming which; applied to all %d of the request", ec.RecordCount, len(members))
			for _, i := range members {
				if verdicts[i].Outcome == "" {
					verdicts[i] = errorVerdict(ec.Reason, note)
				}
			}
		}
		for _, i := range members {
			if verdicts[i].Outcome != "" {
				continue
			}
			if st.RequestStatus == statusFailed {
				verdicts[i] = forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "FAILED", Note: "Google failed the request without a reason for this event"}
			} else {
				verdicts[i] = forwarder.Verdict{Outcome: forwarder.OutcomeCounted}
			}
		}
	}
	return verdicts, true, nil
}

// errorVerdict is the verdict of an event Google reported with reason.
func errorVerdict(reason, note string) forwarder.Verdict {
	r := ShortReason(reason)
	if r == "" {
		r = "UNSPECIFIED"
	}
	if alreadyCounted[r] {
		return forwarder.Verdict{Outcome: forwarder.OutcomeCounted, Reason: r, Note: joinNote("Google already had this conversion", note)}
	}
	return forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: r, Note: note}
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

// eventsOf lists the events of destination d.
func eventsOf(destOf []int, d int) []int {
	var out []int
	for i, x := range destOf {
		if x == d {
			out = append(out, i)
		}
	}
	return out
}
