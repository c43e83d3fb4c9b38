package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// A done job's delivery is never sent again: Replan and a new Accept of
// its call plan anew from the call and the rules, and only dead and
// pending jobs are sent. What is still read of it is its envelope (ID,
// call, rule, destination, type, call time, trace) and, of a Google Ads
// conversion, the backend, which JobInfo.Outcome judges by. So a store
// keeps a done job's delivery as DoneDelivery makes it, a few dozen bytes
// instead of the payload, for the whole dedup window.
//
// A job acknowledged under a Data Manager poll keeps its payload until the
// poll is resolved: a processing rejection makes it a dead letter, which
// RetryDead sends again.

// DoneDelivery returns what a store keeps of d once its job is done: d
// without its GA4, Universal Analytics and Google Ads payloads, but for
// the Google Ads backend.
func DoneDelivery(d forwarder.Delivery) forwarder.Delivery {
	out := forwarder.Delivery{
		ID: d.ID, CallSid: d.CallSid, Rule: d.Rule, Destination: d.Destination, Type: d.Type,
		CallTime: d.CallTime, Trace: d.Trace,
	}
	if d.Ads != nil {
		out.Ads = &forwarder.AdsConversion{Backend: d.Ads.Backend}
	}
	return out
}

// doneDelivery is the encoding of DoneDelivery: the fields of
// forwarder.Delivery under the same names, the Google Ads conversion
// reduced to its backend, so that it decodes as a forwarder.Delivery.
type doneDelivery struct {
	ID          string    `json:"id"`
	CallSid     string    `json:"call_sid"`
	Rule        string    `json:"rule"`
	Destination string    `json:"destination"`
	Type        string    `json:"type"`
	CallTime    time.Time `json:"call_time"`
	Ads         *doneAds  `json:"ads,omitempty"`
	Trace       string    `json:"trace,omitempty"`
}

// doneAds is what doneDelivery keeps of a Google Ads conversion.
type doneAds struct {
	Backend string `json:"backend"`
}

// EncodeDoneDelivery returns the JSON of DoneDelivery(d), without the
// zero fields of the payload it drops: it decodes as a forwarder.Delivery
// equal to DoneDelivery(d).
func EncodeDoneDelivery(d forwarder.Delivery) ([]byte, error) {
	dd := doneDelivery{
		ID: d.ID, CallSid: d.CallSid, Rule: d.Rule, Destination: d.Destination, Type: d.Type,
		CallTime: d.CallTime, Trace: d.Trace,
	}
	if d.Ads != nil {
		dd.Ads = &doneAds{Backend: d.Ads.Backend}
	}
	v, err := json.Marshal(dd)
	if err != nil {
		return nil, fmt.Errorf("encode done delivery %s: %w", d.ID, err)
	}
	return v, nil
}
