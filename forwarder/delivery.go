package forwarder

import (
	"strings"
	"time"
)

// Destination types a Delivery can be bound for.
const (
	DestinationGA4       = "ga4"
	DestinationGoogleAds = "google_ads"
	// DestinationUA is a legacy Universal Analytics (Measurement Protocol
	// v1) collector; Google stopped processing UA hits in 2023-2024.
	DestinationUA = "ua"
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

	GA4 *GA4Event      `json:"ga4,omitempty"`
	Ads *AdsConversion `json:"ads,omitempty"`
	UA  *UAHit         `json:"ua,omitempty"`

	// Trace is the W3C traceparent of the webhook's intake span, set at
	// intake when tracing is on, so that the spans of this delivery's sends
	// can link to it. It identifies a trace, nothing personal.
	Trace string `json:"trace,omitempty"`
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
	// UserProperties are GA4 user properties by name: strings and numbers
	// only.
	UserProperties map[string]any `json:"user_properties,omitempty"`
	// Time is the event time (normally the call's start).
	Time time.Time `json:"time"`
	// Consent is the request-level consent sent with the event; nil when
	// the rules give none.
	Consent *GA4Consent `json:"consent,omitempty"`
}

// GA4Consent is the Measurement Protocol's request-level consent. Each
// field is GRANTED, DENIED or "" (not sent).
type GA4Consent struct {
	AdUserData        string `json:"ad_user_data,omitempty"`
	AdPersonalization string `json:"ad_personalization,omitempty"`
}

// Google Ads backends.
const (
	// AdsBackendDataManager sends through the Data Manager API
	// (events:ingest), Google's path for new conversion importers.
	AdsBackendDataManager = "data_manager"
	// AdsBackendGoogleAdsAPI sends through the Google Ads API
	// ConversionUploadService, for accounts Google still allows there.
	AdsBackendGoogleAdsAPI = "google_ads_api"
)

// Kinds of Google Ads conversion.
const (
	// AdsClick is a click conversion: identified by GCLID and/or hashed
	// user data (enhanced conversions for leads).
	AdsClick = "click"
	// AdsCall is a call conversion (Google Ads API uploadCallConversions):
	// identified by the caller id and call start, for calls that went
	// through a Google forwarding number.
	AdsCall = "call"
)

// AdsConversion is a Google Ads offline conversion ready to send. Personal
// data is reduced at planning: the caller's number is only kept hashed,
// except CallerID for call conversions, which Google requires in clear.
type AdsConversion struct {
	Backend string `json:"backend"` // AdsBackendDataManager or AdsBackendGoogleAdsAPI
	Kind    string `json:"kind"`    // AdsClick or AdsCall
	// CustomerID is the conversion customer, 10 digits without dashes.
	CustomerID string `json:"customer_id"`
	// LoginCustomerID is the manager account in the access path, if any.
	LoginCustomerID string `json:"login_customer_id,omitempty"`
	// ConversionAction is the conversion action id (digits).
	ConversionAction string `json:"conversion_action"`
	// Time is when the conversion happened (the call's start or end).
	Time time.Time `json:"time"`
	// CallStart is the call's start (call conversions).
	CallStart time.Time `json:"call_start,omitzero"`
	// GCLID is the Google click id, when known.
	GCLID string `json:"gclid,omitempty"`
	// HashedPhone is the caller's E.164 number, SHA-256, lowercase hex.
	HashedPhone string `json:"hashed_phone,omitempty"`
	// CallerID is the caller's E.164 number in clear (AdsCall only).
	CallerID string `json:"caller_id,omitempty"`
	// Value and Currency are the conversion value (nil: none).
	Value    *float64 `json:"value,omitempty"`
	Currency string   `json:"currency,omitempty"`
	// TransactionID is stable for the call and rule (Google dedups on it).
	TransactionID string `json:"transaction_id"`
	// AdUserData is the consent for ad user data: GRANTED, DENIED or "".
	AdUserData string `json:"ad_user_data,omitempty"`
}

// UAHit is a legacy Universal Analytics Measurement Protocol v1 event hit.
// Google stopped processing UA hits (standard properties in July 2023, 360
// properties in July 2024); it is kept for UA-style collectors only.
type UAHit struct {
	// TrackingID is the property, UA-XXXX-Y.
	TrackingID string `json:"tracking_id"`
	// ClientID is the anonymous client id (cid); personal data.
	ClientID string `json:"client_id"`
	// Category, Action and Label are ec, ea and el.
	Category string `json:"category"`
	Action   string `json:"action"`
	Label    string `json:"label,omitempty"`
	// Value is ev, a non-negative integer (nil: none).
	Value *int `json:"value,omitempty"`
	// Campaign holds cn, cs, cm, ck, cc and ci when known.
	Campaign map[string]string `json:"campaign,omitempty"`
	// NonInteraction sends ni=1.
	NonInteraction bool `json:"non_interaction,omitempty"`
	// Time is the hit's time; qt = now - Time (ms), refused when > 4 h.
	Time time.Time `json:"time"`
}
