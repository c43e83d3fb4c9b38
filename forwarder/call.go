package forwarder

import (
	"log/slog"
	"time"
)

// Event is the kind of webhook Fone Dynamics sent.
type Event string

// The webhook events the platform sends. Call.Complete is the one this
// project exists for; Call.Initiate arrives at the start of a call and lacks
// a duration and a disposition.
const (
	EventComplete Event = "Call.Complete"
	EventInitiate Event = "Call.Initiate"
)

// Disposition is the outcome of a call as the platform reports it. Values
// the platform may add later are kept as they come.
type Disposition string

// The dispositions documented by the platform.
const (
	DispositionAnswered Disposition = "ANSWERED"
	DispositionNoAnswer Disposition = "NO ANSWER"
	DispositionBusy     Disposition = "BUSY"
	DispositionIVR      Disposition = "IVR"
	DispositionFailed   Disposition = "FAILED"
)

// Known reports whether d is one of the documented dispositions.
func (d Disposition) Known() bool {
	switch d {
	case DispositionAnswered, DispositionNoAnswer, DispositionBusy, DispositionIVR, DispositionFailed:
		return true
	}
	return false
}

// AnonymousCaller is the value of Call.From when the caller withheld the number.
const AnonymousCaller = "anonymous"

// Call is one decoded Fone Dynamics webhook. Empty strings mean "unknown",
// as on the wire; optional integers are pointers so that "absent" and "0"
// stay distinct.
//
// Call holds personal data (the caller's number, the GA client id). Its
// LogValue exposes only identifiers, so logging a Call never leaks them.
type Call struct {
	Action string `json:"action"`
	Event  Event  `json:"event"`

	AccountSid   string `json:"account_sid"`
	PropertySid  string `json:"property_sid"`
	PropertyName string `json:"property_name,omitempty"`
	PropertyType string `json:"property_type,omitempty"`

	Sid       string    `json:"sid"`
	StartDate time.Time `json:"start_date"`

	// From is the caller id in E.164 ("+61412345678"), or AnonymousCaller,
	// or empty when unknown.
	From        string `json:"from,omitempty"`
	FromCountry string `json:"from_country,omitempty"`
	FromRegion  string `json:"from_region,omitempty"`
	FromCity    string `json:"from_city,omitempty"`

	To     string `json:"to,omitempty"`
	ToType string `json:"to_type,omitempty"` // "Static" or "Dynamic"
	ToName string `json:"to_name,omitempty"`

	// Duration is the call length in seconds; nil for Call.Initiate.
	Duration    *int        `json:"duration,omitempty"`
	Disposition Disposition `json:"disposition,omitempty"`

	RecordingURI string `json:"recording_uri,omitempty"`
	Endpoint     string `json:"endpoint,omitempty"`

	Survey      Survey      `json:"survey,omitzero"`
	Prompts     Prompts     `json:"prompts,omitzero"`
	Attribution Attribution `json:"attribution,omitzero"`
	Session     Session     `json:"session,omitzero"`

	// GAClientID is the GA client id normalised to "X.Y" (a whole _ga
	// cookie "GA1.2.X.Y" is reduced to its last two fields).
	GAClientID string `json:"ga_client_id,omitempty"`
	// GCLID is the Google Ads click id.
	GCLID string `json:"gclid,omitempty"`

	// Extra holds parameters the platform sent that this version does not
	// know, by their dotted name, so rules can still use them.
	Extra map[string]string `json:"extra,omitempty"`

	// Dropped lists the optional parameters that were malformed and left
	// out of the call, and why; the call was accepted without them.
	Dropped []DroppedField `json:"dropped,omitempty"`

	// History is the caller's earlier calls as the store knew them when
	// the call arrived; nil when they were not looked up (no loaded rule
	// asked). Set at intake, never decoded from a webhook.
	History *CallerHistory `json:"caller_history,omitempty"`
}

// DroppedField is an optional webhook parameter left out of a call because
// its value was malformed. Reason says why; it never quotes a phone
// number, a client id or a click id.
type DroppedField struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Survey is what the answering agent entered in the call survey.
type Survey struct {
	Type       string `json:"type,omitempty"`
	Value      *int   `json:"value,omitempty"`
	Custom1    string `json:"custom1,omitempty"`
	Custom2    string `json:"custom2,omitempty"`
	Custom3    string `json:"custom3,omitempty"`
	UniqueCode string `json:"unique_code,omitempty"`
}

// Prompts is what the caller keyed in the IVR.
type Prompts struct {
	Postcodes []string `json:"postcodes,omitempty"`
	Keys      []string `json:"keys,omitempty"`
}

// Attribution is the marketing source of the call, when known.
type Attribution struct {
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Content  string `json:"content,omitempty"`
}

// Session describes the web session behind a dynamic-number call.
type Session struct {
	TrafficType   string `json:"traffic_type,omitempty"`
	Keywords      string `json:"keywords,omitempty"`
	ConversionURI string `json:"conversion_uri,omitempty"`
	LandingURI    string `json:"landing_uri,omitempty"`
}

// Anonymous reports whether the caller withheld the number.
func (c *Call) Anonymous() bool { return c.From == AnonymousCaller }

// CallerPhone returns the caller's E.164 number, or "" when it is unknown
// or withheld.
func (c *Call) CallerPhone() string {
	if c.From == "" || c.Anonymous() {
		return ""
	}
	return c.From
}

// EndTime is the start time plus the duration (the start time when the
// duration is unknown).
func (c *Call) EndTime() time.Time {
	if c.Duration == nil {
		return c.StartDate
	}
	return c.StartDate.Add(time.Duration(*c.Duration) * time.Second)
}

// LogValue implements slog.LogValuer. It exposes identifiers only: never
// the caller's number nor the GA client id.
func (c Call) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("call_sid", c.Sid),
		slog.String("event", string(c.Event)),
		slog.String("property_sid", c.PropertySid),
	}
	if c.Disposition != "" {
		attrs = append(attrs, slog.String("disposition", string(c.Disposition)))
	}
	if c.Duration != nil {
		attrs = append(attrs, slog.Int("duration", *c.Duration))
	}
	return slog.GroupValue(attrs...)
}
