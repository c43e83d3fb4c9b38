package googleads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"

	"github.com/callforward/callforward/forwarder"
	"google.golang.org/api/datamanager/v1"
	"google.golang.org/api/googleapi"
)

// eventPath finds the event a field violation names: events[3]... or
// events.3...
var eventPath = regexp.MustCompile(`^events(?:\[([0-9]+)\]|\.([0-9]+))`)

// ingest sends convs (one batch key) to events:ingest and returns one
// outcome per conversion and, for each conversion Google accepted, the
// receipt of the request that carried it (none when only validating:
// Google processes nothing then). isolate allows one more attempt without
// the events Google's field violations name.
func (s *Sender) ingest(ctx context.Context, convs []*forwarder.AdsConversion, isolate bool) ([]error, []forwarder.Receipt) {
	const op = "googleads: data manager: ingest"
	none := make([]forwarder.Receipt, len(convs))
	body := getBodyBuffer(ingestSizeHint(convs))
	var err error
	if *body, err = AppendIngestRequest((*body)[:0], convs, s.cfg.ValidateOnly); err != nil {
		putBodyBuffer(body)
		return fill(len(convs), forwarder.Permanent("encode", fmt.Errorf("%s: %w", op, err))), none
	}
	// The generated client's encoder ends the body with a newline.
	*body = append(*body, '\n')
	resp, err := s.dmIngest.post(ctx, body)
	if err == nil {
		return make([]error, len(convs)), receipts(resp, convs, s.cfg.ValidateOnly)
	}
	red := newRedactor(convs)
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		return fill(len(convs), classifyTransport(ctx, op, err)), none
	}
	f := readFailure(gerr)
	if f.status == http.StatusUnauthorized {
		invalidate(s.cfg.TokenSource)
	}
	whole := s.classifyFailure(op, f, red, s.now())
	if f.status != http.StatusBadRequest {
		return fill(len(convs), whole), none
	}
	bad := badEvents(f.violations, len(convs))
	if !isolate || len(bad) == 0 || len(bad) == len(convs) {
		return fill(len(convs), whole), none
	}
	// Google named the culprits: they fail, the others go again once.
	out := make([]error, len(convs))
	var rest []*forwarder.AdsConversion
	var restIdx []int
	for i, a := range convs {
		if v, ok := bad[i]; ok {
			code := v.reason
			if code == "" {
				code = f.code
			}
			out[i] = forwarder.Rejected(code, fmt.Errorf("%s: Google refused the event: %s %s", op, v.field, code))
			continue
		}
		rest = append(rest, a)
		restIdx = append(restIdx, i)
	}
	errs, recs := s.ingest(ctx, rest, false)
	for j, e := range errs {
		out[restIdx[j]] = e
		none[restIdx[j]] = recs[j]
	}
	return out, none
}

// receipts returns, for each conversion of an accepted request for
// convs, its request id, its position in events[] and its destination's
// position in destinations[] (the order of destinations).
func receipts(resp *datamanager.IngestEventsResponse, convs []*forwarder.AdsConversion, validateOnly bool) []forwarder.Receipt {
	out := make([]forwarder.Receipt, len(convs))
	if validateOnly || resp == nil || resp.RequestId == "" {
		return out
	}
	actions, _ := destinations(convs)
	for i, a := range convs {
		out[i] = forwarder.Receipt{RequestID: resp.RequestId, Index: i, Dest: slices.Index(actions, a.ConversionAction)}
	}
	return out
}

// badEvents maps the events named by violations to their first
// violation. It returns nil when any violation names no event of the
// batch: then the whole request was at fault.
func badEvents(vs []violation, n int) map[int]violation {
	out := map[int]violation{}
	for _, v := range vs {
		m := eventPath.FindStringSubmatch(v.field)
		if m == nil {
			return nil
		}
		i, err := strconv.Atoi(m[1] + m[2])
		if err != nil || i >= n {
			return nil
		}
		if _, seen := out[i]; !seen {
			out[i] = v
		}
	}
	return out
}

// BuildIngestRequest returns the events:ingest request for convs, which
// share a BatchKey, as the generated client's type. Each conversion
// action becomes a destination; with more than one, destinations are
// referenced by action id. The sender writes the same request's JSON with
// AppendIngestRequest; this form is for the generated client's other
// users and the reference of the encoder's tests.
func BuildIngestRequest(convs []*forwarder.AdsConversion, validateOnly bool) *datamanager.IngestEventsRequest {
	req := &datamanager.IngestEventsRequest{ValidateOnly: validateOnly}
	actions, first := destinations(convs)
	multi := len(actions) > 1
	for i, action := range actions {
		a := convs[first[i]]
		d := &datamanager.Destination{
			OperatingAccount:     &datamanager.ProductAccount{AccountType: "GOOGLE_ADS", AccountId: a.CustomerID},
			ProductDestinationId: action,
		}
		if a.LoginCustomerID != "" {
			d.LoginAccount = &datamanager.ProductAccount{AccountType: "GOOGLE_ADS", AccountId: a.LoginCustomerID}
		}
		if multi {
			d.Reference = action
		}
		req.Destinations = append(req.Destinations, d)
	}
	for _, a := range convs {
		e := ingestEvent(a)
		if multi {
			e.DestinationReferences = []string{a.ConversionAction}
		}
		if e.UserData != nil {
			req.Encoding = "HEX"
		}
		req.Events = append(req.Events, e)
	}
	return req
}

// ingestEvent is the Data Manager event of a.
func ingestEvent(a *forwarder.AdsConversion) *datamanager.Event {
	e := &datamanager.Event{
		EventTimestamp: timestamp(a.Time),
		TransactionId:  a.TransactionID,
		EventSource:    "PHONE",
	}
	if a.GCLID != "" {
		e.AdIdentifiers = &datamanager.AdIdentifiers{Gclid: a.GCLID}
	}
	phone := a.HashedPhone
	if phone == "" && a.Kind == forwarder.AdsCall {
		// A call conversion is matched on the caller's number, which the
		// Data Manager API only takes hashed.
		sum := sha256.Sum256([]byte(a.CallerID))
		phone = hex.EncodeToString(sum[:])
	}
	if phone != "" {
		e.UserData = &datamanager.UserData{UserIdentifiers: []*datamanager.UserIdentifier{{PhoneNumber: phone}}}
	}
	if a.Kind == forwarder.AdsCall {
		e.CallInfo = &datamanager.CallInfo{StartTimestamp: timestamp(a.CallStart)}
	}
	if a.Value != nil {
		e.ConversionValue = *a.Value
		e.Currency = a.Currency
		if e.ConversionValue == 0 {
			// A value of 0 is a value: send it. Only then: a forced
			// field sends the event through the client's slow path
			// (encode, decode into a map, encode again), ten times the
			// cost of a plain encoding.
			e.ForceSendFields = []string{"ConversionValue"}
		}
	}
	if a.AdUserData != "" {
		e.Consent = &datamanager.Consent{AdUserData: "CONSENT_" + a.AdUserData}
	}
	return e
}
