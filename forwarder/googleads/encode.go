package googleads

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/jsonenc"
)

// The events:ingest body is written here directly, member by member, in
// the order encoding/json gives the generated client's types (their
// fields are declared in alphabetical order, which is also the order of
// the sorted map the client builds for an event with a forced
// conversionValue of 0). The result is the bytes of
// json.Marshal(BuildIngestRequest(convs, validateOnly)); the tests hold
// the two to byte equality, field by field and under fuzzing.
//
// The generated client encodes through gensupport.MarshalJSON, which for
// every nested object marshals, re-scans and compacts, and for a forced
// field goes through a map: forty times and more the cost of this
// encoder (BenchmarkIngestEncoding).

// AppendIngestRequest appends to dst the JSON body of the events:ingest
// request for convs, which share a BatchKey, and returns the extended
// buffer. The bytes are those of json.Marshal of BuildIngestRequest(convs,
// validateOnly) (the generated client sends them followed by a newline).
// The only error is a conversion value that is not a finite number, which
// json.Marshal refuses too; dst is then returned as it was.
func AppendIngestRequest(dst []byte, convs []*forwarder.AdsConversion, validateOnly bool) ([]byte, error) {
	actions, first := destinations(convs)
	multi := len(actions) > 1
	b := append(dst, '{')
	if len(actions) > 0 {
		b = append(b, `"destinations":[`...)
		for i, action := range actions {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDestination(b, convs[first[i]], action, multi)
		}
		b = append(b, ']')
	}
	for _, a := range convs {
		if hasUserData(a) {
			b = member(b, `"encoding":"HEX"`)
			break
		}
	}
	if len(convs) > 0 {
		b = member(b, `"events":[`)
		for i, a := range convs {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendEvent(b, a, multi); err != nil {
				return dst, fmt.Errorf("googleads: encode events[%d]: %w", i, err)
			}
		}
		b = append(b, ']')
	}
	if validateOnly {
		b = member(b, `"validateOnly":true`)
	}
	return append(b, '}'), nil
}

// ingestSizeHint is about the length of the events:ingest body for convs,
// so that the buffer is allocated once.
func ingestSizeHint(convs []*forwarder.AdsConversion) int {
	n := 256
	for _, a := range convs {
		n += 256 + len(a.GCLID) + len(a.HashedPhone) + len(a.TransactionID) + len(a.Currency) + len(a.ConversionAction)
	}
	return n
}

// destinations returns the distinct conversion actions of convs in the
// order of their first use, which is the order of the request's
// destinations[], and for each the index of its first conversion.
func destinations(convs []*forwarder.AdsConversion) (actions []string, first []int) {
	for i, a := range convs {
		if !containsAction(actions, a.ConversionAction) {
			actions = append(actions, a.ConversionAction)
			first = append(first, i)
		}
	}
	return actions, first
}

func containsAction(actions []string, action string) bool {
	for _, x := range actions {
		if x == action {
			return true
		}
	}
	return false
}

// hasUserData reports whether the event of a carries user identifiers:
// a hashed phone, or the caller's number of a call conversion.
func hasUserData(a *forwarder.AdsConversion) bool {
	return a.HashedPhone != "" || a.Kind == forwarder.AdsCall
}

// member appends m, a "name":value member (or its beginning), to the
// object b is writing, after a comma unless it is the object's first.
// Every object is opened by '{', and no value ends with one.
func member(b []byte, m string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	return append(b, m...)
}

// appendDestination appends the Destination of action, whose first
// conversion is a.
func appendDestination(b []byte, a *forwarder.AdsConversion, action string, multi bool) []byte {
	b = append(b, '{')
	if a.LoginCustomerID != "" {
		b = append(b, `"loginAccount":`...)
		b = appendAccount(b, a.LoginCustomerID)
	}
	b = member(b, `"operatingAccount":`)
	b = appendAccount(b, a.CustomerID)
	if action != "" {
		b = append(b, `,"productDestinationId":`...)
		b = jsonenc.AppendString(b, action)
		if multi {
			b = append(b, `,"reference":`...)
			b = jsonenc.AppendString(b, action)
		}
	}
	return append(b, '}')
}

// appendAccount appends the Google Ads ProductAccount id.
func appendAccount(b []byte, id string) []byte {
	b = append(b, '{')
	if id != "" {
		b = append(b, `"accountId":`...)
		b = jsonenc.AppendString(b, id)
	}
	return member(b, `"accountType":"GOOGLE_ADS"}`)
}

// appendEvent appends the Event of a, as ingestEvent builds it.
func appendEvent(b []byte, a *forwarder.AdsConversion, multi bool) ([]byte, error) {
	b = append(b, '{')
	if a.GCLID != "" {
		b = append(b, `"adIdentifiers":{"gclid":`...)
		b = jsonenc.AppendString(b, a.GCLID)
		b = append(b, '}')
	}
	if a.Kind == forwarder.AdsCall {
		b = member(b, `"callInfo":{"startTimestamp":"`)
		b = appendTimestamp(b, a.CallStart)
		b = append(b, `"}`...)
	}
	if a.AdUserData != "" {
		// The prefix is plain ASCII: escaping the whole value is escaping
		// the rest.
		b = member(b, `"consent":{"adUserData":"CONSENT_`)
		b = jsonenc.AppendStringContent(b, a.AdUserData)
		b = append(b, `"}`...)
	}
	if a.Value != nil {
		// Sent also when 0 (a forced field of the client's type).
		v := *a.Value
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return b, fmt.Errorf("unsupported conversion value %v", v)
		}
		b = member(b, `"conversionValue":`)
		b = jsonenc.AppendFloat(b, v)
		if a.Currency != "" {
			b = append(b, `,"currency":`...)
			b = jsonenc.AppendString(b, a.Currency)
		}
	}
	if multi {
		b = member(b, `"destinationReferences":[`)
		b = jsonenc.AppendString(b, a.ConversionAction)
		b = append(b, ']')
	}
	b = member(b, `"eventSource":"PHONE","eventTimestamp":"`)
	b = appendTimestamp(b, a.Time)
	b = append(b, '"')
	if a.TransactionID != "" {
		b = append(b, `,"transactionId":`...)
		b = jsonenc.AppendString(b, a.TransactionID)
	}
	switch {
	case a.HashedPhone != "":
		b = append(b, `,"userData":{"userIdentifiers":[{"phoneNumber":`...)
		b = jsonenc.AppendString(b, a.HashedPhone)
		b = append(b, `}]}`...)
	case a.Kind == forwarder.AdsCall:
		// A call conversion is matched on the caller's number, which the
		// Data Manager API only takes hashed (lowercase hex: nothing to
		// escape).
		sum := sha256.Sum256([]byte(a.CallerID))
		var h [2 * sha256.Size]byte
		hex.Encode(h[:], sum[:])
		b = append(b, `,"userData":{"userIdentifiers":[{"phoneNumber":"`...)
		b = append(b, h[:]...)
		b = append(b, `"}]}`...)
	}
	return append(b, '}'), nil
}
