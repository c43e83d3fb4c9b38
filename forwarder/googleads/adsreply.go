package googleads

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// How long Google asks to wait on its "too recent" errors: 6 hours after a
// click or a new conversion action, 12 hours after a call (the call
// upload guide's figure; the enum's text says 6).
const (
	tooRecentWait     = 6 * time.Hour
	tooRecentCallWait = 12 * time.Hour
)

// The JSON of an upload answer (HTTP 200).
type (
	uploadReply struct {
		PartialFailureError *rpcStatus        `json:"partialFailureError"`
		Results             []json.RawMessage `json:"results"`
	}
	rpcStatus struct {
		Code    int                `json:"code"`
		Message string             `json:"message"`
		Details []googleAdsFailure `json:"details"`
	}
	googleAdsFailure struct {
		Errors []googleAdsError `json:"errors"`
	}
	googleAdsError struct {
		ErrorCode map[string]any `json:"errorCode"`
		Message   string         `json:"message"`
		Location  struct {
			FieldPathElements []struct {
				FieldName string `json:"fieldName"`
				Index     *int   `json:"index"`
			} `json:"fieldPathElements"`
		} `json:"location"`
	}
)

// row returns the conversion index an error is located at, or -1.
func (e googleAdsError) row() int {
	for _, p := range e.Location.FieldPathElements {
		if p.FieldName == "conversions" && p.Index != nil {
			return *p.Index
		}
	}
	return -1
}

// outcomes maps the answer to one outcome per conversion. A row failed
// when an error names it, or when the answer has a partial failure and
// the row's result is empty; errors naming no row then apply to it.
func (r *uploadReply) outcomes(op string, n int, red redactor, validateOnly bool) []error {
	out := make([]error, n)
	if r.PartialFailureError == nil {
		return out
	}
	perRow := make([][]googleAdsError, n)
	var unplaced []googleAdsError
	for _, d := range r.PartialFailureError.Details {
		for _, e := range d.Errors {
			if i := e.row(); i >= 0 && i < n {
				perRow[i] = append(perRow[i], e)
			} else {
				unplaced = append(unplaced, e)
			}
		}
	}
	for i := range out {
		errs := perRow[i]
		if len(errs) == 0 && !validateOnly && i < len(r.Results) && emptyResult(r.Results[i]) {
			errs = unplaced
			if len(errs) == 0 {
				out[i] = forwarder.Transient("ROW_FAILED", fmt.Errorf("%s: conversions[%d] failed without an error: %s", op, i, red.scrub(r.PartialFailureError.Message)))
				continue
			}
		}
		if len(errs) > 0 {
			out[i] = classifyRow(op, i, errs, red)
		}
	}
	return out
}

// emptyResult reports whether a result is {} (or null): a failed row.
func emptyResult(raw json.RawMessage) bool {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return false
	}
	return len(m) == 0
}

// classifyRow gives the outcome of a row from its errors: nil when one
// says the conversion is already at Google, else the most final of them
// (permanent, then the longest wait, then transient).
func classifyRow(op string, i int, errs []googleAdsError, red redactor) error {
	var worst error
	rank := -1
	for _, e := range errs {
		family, value := firstCode(e.ErrorCode)
		r, err := rowError(op, i, family, value, red.scrub(e.Message))
		if r == 0 {
			return nil
		}
		if r > rank {
			worst, rank = err, r
		}
	}
	return worst
}

// rowError classifies one row error and ranks it: 0 for success, 1
// transient, 2 retry after 6 h, 3 after 12 h, 4 permanent.
func rowError(op string, i int, family, value, msg string) (int, error) {
	err := fmt.Errorf("%s: conversions[%d]: %s.%s: %s", op, i, family, value, msg)
	switch value {
	case "CLICK_CONVERSION_ALREADY_EXISTS", "CALL_CONVERSION_ALREADY_EXISTS", "ORDER_ID_ALREADY_IN_USE",
		// CLICK_NOT_FOUND: identifiers that matched no click; Google keeps
		// the conversion for later matching.
		"CLICK_NOT_FOUND":
		return 0, nil
	case "TOO_RECENT_CALL":
		return 3, forwarder.RetryAfter(value, tooRecentCallWait, err)
	case "TOO_RECENT_EVENT", "TOO_RECENT_CLICK", "TOO_RECENT_CONVERSION_ACTION":
		return 2, forwarder.RetryAfter(value, tooRecentWait, err)
	case "CONCURRENT_MODIFICATION", "RESOURCE_EXHAUSTED", "RESOURCE_TEMPORARILY_EXHAUSTED":
		return 1, forwarder.Transient(value, err)
	case notAllowlisted:
		return 4, forwarder.Rejected(value, fmt.Errorf("%s: conversions[%d]: %s", op, i, notAllowlistedHint))
	}
	switch family {
	case "internalError", "quotaError":
		return 1, forwarder.Transient(value, err)
	case "":
		return 4, forwarder.Rejected("UNKNOWN_ERROR", err)
	}
	return 4, forwarder.Rejected(value, err)
}
