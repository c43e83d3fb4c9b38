package callview

import (
	"net/url"
	"slices"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

// RulesNote says where the rule verdicts of a CallView come from.
const RulesNote = "verdicts from the rules in force now, which may differ from those the call was planned under"

// CallView is one call's timeline as a person is shown it: what arrived,
// what the rules make of it, and what became of each delivery at Google.
// It holds no personal data in clear.
type CallView struct {
	Sid string `json:"sid"`
	// Arrived is when the forwarder (last) accepted the call; zero when
	// the store does not say.
	Arrived time.Time `json:"arrived,omitzero"`
	Call    Fields    `json:"call"`
	// RulesNote says which rules Rules were evaluated under.
	RulesNote  string         `json:"rules_note,omitempty"`
	Rules      []RuleVerdict  `json:"rules,omitempty"`
	Deliveries []DeliveryView `json:"deliveries"`
}

// Fields are the decoded webhook fields of a call, masked.
type Fields struct {
	Event        forwarder.Event       `json:"event"`
	AccountSid   string                `json:"account_sid,omitempty"`
	PropertySid  string                `json:"property_sid,omitempty"`
	PropertyName string                `json:"property_name,omitempty"`
	StartDate    time.Time             `json:"start_date,omitzero"`
	Duration     *int                  `json:"duration,omitempty"`
	Disposition  forwarder.Disposition `json:"disposition,omitempty"`
	// From is the caller's number down to its last three digits, or
	// "anonymous".
	From        string `json:"from,omitempty"`
	FromCountry string `json:"from_country,omitempty"`
	FromRegion  string `json:"from_region,omitempty"`
	FromCity    string `json:"from_city,omitempty"`
	// To is the tracking number dialled (the business's, not the caller's).
	To     string `json:"to,omitempty"`
	ToType string `json:"to_type,omitempty"`
	ToName string `json:"to_name,omitempty"`
	// GAClientID and GCLID are shortened (see ID).
	GAClientID  string                `json:"ga_client_id,omitempty"`
	GCLID       string                `json:"gclid,omitempty"`
	Attribution forwarder.Attribution `json:"attribution,omitzero"`
	TrafficType string                `json:"traffic_type,omitempty"`
	// LandingPage and ConversionPage are the session's pages without their
	// query strings (which carry click ids).
	LandingPage    string `json:"landing_page,omitempty"`
	ConversionPage string `json:"conversion_page,omitempty"`
	SurveyValue    *int   `json:"survey_value,omitempty"`
	// Extra names the parameters the platform sent that this version does
	// not know; their values are not shown.
	Extra []string `json:"extra,omitempty"`
	// PreviousCall is when the caller called before, as the store knew at
	// intake (zero: none on record or not looked up).
	PreviousCall time.Time `json:"previous_call,omitzero"`
}

// RuleVerdict is one rule's verdict on the call.
type RuleVerdict struct {
	Rule    string `json:"rule"`
	Matched bool   `json:"matched"`
	// Reason says why the rule did not match.
	Reason string `json:"reason,omitempty"`
	// Plans are the ids of the deliveries the rule plans.
	Plans   []string       `json:"plans,omitempty"`
	Skipped []mapping.Skip `json:"skipped,omitempty"`
	Stops   bool           `json:"stops,omitempty"`
}

// DeliveryView is one delivery of a call: its state in the queue, every
// attempt with Google's answer, and its outcome at Google.
type DeliveryView struct {
	ID          string         `json:"id"`
	Rule        string         `json:"rule"`
	Destination string         `json:"destination"`
	Type        string         `json:"type"`
	Backend     string         `json:"backend,omitempty"`
	State       store.JobState `json:"state"`
	Attempts    int            `json:"attempts"`
	// History is the attempts the store keeps (the latest store.MaxHistory).
	History   []store.Attempt `json:"history,omitempty"`
	LastError string          `json:"last_error,omitempty"`
	// RequestID is the Data Manager request that carried the delivery.
	RequestID string `json:"request_id,omitempty"`
	// Verdict is the delivery's outcome at Google (nil while it is not
	// sent); Outcome says it in words.
	Verdict *forwarder.Verdict `json:"verdict,omitempty"`
	Outcome string             `json:"outcome"`
}

// CallSummary is one call in a list of calls.
type CallSummary struct {
	Sid        string           `json:"sid"`
	Event      forwarder.Event  `json:"event"`
	Arrived    time.Time        `json:"arrived"`
	Deliveries []DeliverySketch `json:"deliveries"`
}

// DeliverySketch is a delivery in a list: where it went and its outcome.
type DeliverySketch struct {
	ID      string         `json:"id"`
	State   store.JobState `json:"state"`
	Outcome string         `json:"outcome"`
}

// DeadLetterView is a dead letter as a person is shown it.
type DeadLetterView struct {
	Delivery string    `json:"delivery"`
	CallSid  string    `json:"call_sid"`
	Rule     string    `json:"rule"`
	Dest     string    `json:"destination"`
	Kind     string    `json:"kind"`
	Code     string    `json:"code,omitempty"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
	Attempts int       `json:"attempts"`
}

// NewCallView builds the view of call, accepted at arrived (zero: not
// known), with its jobs and the verdicts of the rules in force (nil: not
// evaluated).
func NewCallView(call *forwarder.Call, arrived time.Time, jobs []store.JobInfo, rules []mapping.Outcome) CallView {
	v := CallView{Sid: call.Sid, Arrived: arrived, Call: NewFields(call), Deliveries: make([]DeliveryView, 0, len(jobs))}
	if rules != nil {
		v.RulesNote = RulesNote
		v.Rules = make([]RuleVerdict, 0, len(rules))
	}
	for _, o := range rules {
		rv := RuleVerdict{Rule: o.Rule, Matched: o.Matched, Reason: o.Reason, Skipped: o.Skipped, Stops: o.Stops}
		for _, d := range o.Deliveries {
			rv.Plans = append(rv.Plans, d.ID)
		}
		v.Rules = append(v.Rules, rv)
	}
	for _, j := range jobs {
		v.Deliveries = append(v.Deliveries, NewDeliveryView(j))
	}
	return v
}

// NewFields masks the fields of call.
func NewFields(c *forwarder.Call) Fields {
	f := Fields{
		Event: c.Event, AccountSid: c.AccountSid, PropertySid: c.PropertySid, PropertyName: c.PropertyName,
		StartDate: c.StartDate, Duration: c.Duration, Disposition: c.Disposition,
		FromCountry: c.FromCountry, FromRegion: c.FromRegion, FromCity: c.FromCity,
		To: c.To, ToType: c.ToType, ToName: c.ToName,
		GAClientID: ID(c.GAClientID), GCLID: ID(c.GCLID),
		Attribution: c.Attribution, TrafficType: c.Session.TrafficType,
		LandingPage: page(c.Session.LandingURI), ConversionPage: page(c.Session.ConversionURI),
		SurveyValue: c.Survey.Value,
	}
	if c.Anonymous() {
		f.From = forwarder.AnonymousCaller
	} else {
		f.From = Phone(c.From)
	}
	for k := range c.Extra {
		f.Extra = append(f.Extra, k)
	}
	slices.Sort(f.Extra)
	if c.History != nil {
		f.PreviousCall = c.History.Previous
	}
	return f
}

// page is a URL without its query string and fragment (where click ids
// and other identifiers travel); "" when it does not parse.
func page(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// NewDeliveryView builds the view of one delivery.
func NewDeliveryView(j store.JobInfo) DeliveryView {
	d := j.Job.Delivery
	v := DeliveryView{
		ID: d.ID, Rule: d.Rule, Destination: d.Destination, Type: d.Type, State: j.State,
		Attempts: j.Job.Attempts, History: j.Job.History, LastError: j.Job.LastError,
	}
	if d.Ads != nil {
		v.Backend = d.Ads.Backend
	}
	for _, a := range j.Job.History {
		if a.RequestID != "" {
			v.RequestID = a.RequestID
		}
	}
	v.Verdict, v.Outcome = Outcome(j)
	return v
}

// Outcome is what became of a delivery, as a verdict (nil while Google
// has not judged it and it is not delivered) and in words; the verdict is
// store.JobInfo.Outcome.
func Outcome(j store.JobInfo) (*forwarder.Verdict, string) {
	v := j.Outcome()
	switch j.State {
	case store.JobPending:
		if j.Job.Attempts > 0 {
			return v, "pending (retrying)"
		}
		return v, "pending"
	case store.JobDropped:
		return v, "dropped by an operator"
	case store.JobDead:
		if v != nil {
			return v, v.String()
		}
		return nil, "dead letter (not delivered)"
	}
	if v.Outcome == forwarder.OutcomeSent {
		return v, sentText(j.Job.Delivery.Type)
	}
	return v, v.String()
}

// sentText says what is known of a sent hit.
func sentText(typ string) string {
	switch typ {
	case forwarder.DestinationGA4:
		return "sent (GA4 does not report processing)"
	case forwarder.DestinationUA:
		return "sent (Universal Analytics does not report processing)"
	}
	return forwarder.Verdict{Outcome: forwarder.OutcomeSent}.String()
}

// NewCallSummary builds the list entry of a call.
func NewCallSummary(c store.CallSummary) CallSummary {
	s := CallSummary{Sid: c.Sid, Event: c.Event, Arrived: c.At, Deliveries: make([]DeliverySketch, 0, len(c.Jobs))}
	for _, j := range c.Jobs {
		_, out := Outcome(j)
		s.Deliveries = append(s.Deliveries, DeliverySketch{ID: j.Job.Delivery.ID, State: j.State, Outcome: out})
	}
	return s
}

// NewDeadLetterView builds the view of a dead letter.
func NewDeadLetterView(d store.DeadLetter) DeadLetterView {
	kind := d.Kind
	if kind == "" {
		kind = store.DeadSend
	}
	dl := d.Job.Delivery
	return DeadLetterView{
		Delivery: dl.ID, CallSid: dl.CallSid, Rule: dl.Rule, Dest: dl.Destination,
		Kind: kind, Code: d.Code, Reason: d.Reason, At: d.At, Attempts: d.Job.Attempts,
	}
}
