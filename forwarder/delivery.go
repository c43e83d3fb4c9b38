package forwarder

import (
	"strings"
	"time"
)

// Destination types a Delivery can be bound for.
const (
	DestinationGA4 = "ga4"
)

// Delivery is one event or conversion planned for one call, rule and
// destination. It is planned at intake, stored with the call, and sent by
// the delivery workers; its ID is deterministic so that re-planning the same
// call never creates a second delivery.
type Delivery struct {
	// ID is CallSid/Rule/Destination (see DeliveryID).
	ID          string `json:"id"`
	CallSid     string `json:"call_sid"`
	Rule        string `json:"rule"`
	Destination string `json:"destination"`
	// Type says which sender handles the delivery (DestinationGA4, ...).
	Type string `json:"type"`
	// CallTime is when the call started; senders use it as the event time
	// and to decide whether the event is still acceptable to Google.
	CallTime time.Time `json:"call_time"`

	GA4 *GA4Event `json:"ga4,omitempty"`
}

// DeliveryID builds the deterministic ID of the delivery of call sid under
// rule to destination.
func DeliveryID(sid, rule, destination string) string {
	return strings.Join([]string{sid, rule, destination}, "/")
}

// GA4Event is a GA4 Measurement Protocol event ready to send. The API
// secret is not part of it: the sender looks it up by MeasurementID.
type GA4Event struct {
	MeasurementID string `json:"measurement_id"`
	// ClientID is the GA client id ("X.Y"); personal data.
	ClientID string `json:"client_id"`
	Name     string `json:"name"`
	// Params are the event parameters: strings and numbers only.
	Params map[string]any `json:"params,omitempty"`
	// Time is the event time (normally the call's start).
	Time time.Time `json:"time"`
}
