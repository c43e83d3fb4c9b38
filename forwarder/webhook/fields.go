package webhook

import (
	"strings"

	"github.com/callforward/callforward/forwarder"
)

// field decodes one known parameter. Exactly one of text and set is given:
// text points at a string field that takes the trimmed value as it is; set
// decodes the raw (untrimmed) value and returns a problem, or "".
type field struct {
	name string
	text func(*forwarder.Call) *string
	set  func(c *forwarder.Call, raw string) (problem string)
}

// fields lists every documented parameter in validation order: the ones
// that identify the call first, then the reference's order.
var fields = []field{
	{name: "Action", set: setAction},
	{name: "Event", set: setEvent},
	{name: "Call.Sid", set: setSid},
	{name: "Call.StartDate", set: setStartDate},
	{name: "Account.Sid", text: func(c *forwarder.Call) *string { return &c.AccountSid }},
	{name: "Property.Sid", text: func(c *forwarder.Call) *string { return &c.PropertySid }},
	{name: "Property.Name", text: func(c *forwarder.Call) *string { return &c.PropertyName }},
	{name: "Property.Type", text: func(c *forwarder.Call) *string { return &c.PropertyType }},
	{name: "Call.From", set: func(c *forwarder.Call, raw string) string { c.From = normalisePhone(raw, true); return "" }},
	{name: "Call.From.Country", text: func(c *forwarder.Call) *string { return &c.FromCountry }},
	{name: "Call.From.Region", text: func(c *forwarder.Call) *string { return &c.FromRegion }},
	{name: "Call.From.City", text: func(c *forwarder.Call) *string { return &c.FromCity }},
	{name: "Call.To", set: func(c *forwarder.Call, raw string) string { c.To = normalisePhone(raw, false); return "" }},
	{name: "Call.To.Type", text: func(c *forwarder.Call) *string { return &c.ToType }},
	{name: "Call.To.Name", text: func(c *forwarder.Call) *string { return &c.ToName }},
	{name: "Call.Duration", set: setDuration},
	{name: "Call.Disposition", set: func(c *forwarder.Call, raw string) string { c.Disposition = normaliseDisposition(raw); return "" }},
	{name: "Call.Recording.Uri", text: func(c *forwarder.Call) *string { return &c.RecordingURI }},
	{name: "Call.Endpoint", set: func(c *forwarder.Call, raw string) string { c.Endpoint = normalisePhone(raw, false); return "" }},
	{name: "Call.Survey.Type", text: func(c *forwarder.Call) *string { return &c.Survey.Type }},
	{name: "Call.Survey.Value", set: setSurveyValue},
	{name: "Call.Survey.Custom1", text: func(c *forwarder.Call) *string { return &c.Survey.Custom1 }},
	{name: "Call.Survey.Custom2", text: func(c *forwarder.Call) *string { return &c.Survey.Custom2 }},
	{name: "Call.Survey.Custom3", text: func(c *forwarder.Call) *string { return &c.Survey.Custom3 }},
	{name: "Call.Survey.UniqueCode", text: func(c *forwarder.Call) *string { return &c.Survey.UniqueCode }},
	{name: "Call.Prompts.Postcode", set: func(c *forwarder.Call, raw string) string { c.Prompts.Postcodes = splitList(raw); return "" }},
	{name: "Call.Prompts.Keys", set: func(c *forwarder.Call, raw string) string { c.Prompts.Keys = splitList(raw); return "" }},
	{name: "Attribution.Source", text: func(c *forwarder.Call) *string { return &c.Attribution.Source }},
	{name: "Attribution.Medium", text: func(c *forwarder.Call) *string { return &c.Attribution.Medium }},
	{name: "Attribution.Campaign", text: func(c *forwarder.Call) *string { return &c.Attribution.Campaign }},
	{name: "Attribution.Content", text: func(c *forwarder.Call) *string { return &c.Attribution.Content }},
	{name: "Session.Traffic.Type", text: func(c *forwarder.Call) *string { return &c.Session.TrafficType }},
	{name: "Session.Keywords", text: func(c *forwarder.Call) *string { return &c.Session.Keywords }},
	{name: "Session.ConversionUri", text: func(c *forwarder.Call) *string { return &c.Session.ConversionURI }},
	{name: "Session.LandingUri", text: func(c *forwarder.Call) *string { return &c.Session.LandingURI }},
	{name: "Google.Analytics.ClientId", set: setClientID},
	{name: "Google.AdWords.ClickId", set: setGCLID},
}

// fieldIndex tells known parameters from the ones that go to Call.Extra.
var fieldIndex = func() map[string]struct{} {
	m := make(map[string]struct{}, len(fields))
	for _, f := range fields {
		m[f.name] = struct{}{}
	}
	return m
}()

const actionWebhook = "Webhook"

func setAction(c *forwarder.Call, raw string) string {
	v := strings.TrimSpace(raw)
	switch v {
	case "":
		return "required"
	case actionWebhook:
		c.Action = v
		return ""
	}
	return `must be "Webhook", got ` + quote(v)
}

func setEvent(c *forwarder.Call, raw string) string {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "required"
	}
	if !isEventName(v) {
		return "not an event name (Word.Word): " + quote(v)
	}
	c.Event = forwarder.Event(v)
	return ""
}

func setSid(c *forwarder.Call, raw string) string {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "required"
	}
	if !isSid(v) {
		return "not a call id (1 to 128 of A-Z a-z 0-9 _ . : -): " + quote(v)
	}
	c.Sid = v
	return ""
}

func setStartDate(c *forwarder.Call, raw string) string {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "required"
	}
	t, problem := parseStartDate(v)
	if problem != "" {
		return problem
	}
	c.StartDate = t
	return ""
}

func setDuration(c *forwarder.Call, raw string) string {
	v := strings.TrimSpace(raw)
	if v == "" {
		if c.Event == forwarder.EventComplete {
			return "required for " + string(forwarder.EventComplete)
		}
		return ""
	}
	n, problem := parseCount(v)
	if problem != "" {
		return problem
	}
	c.Duration = &n
	return ""
}

func setSurveyValue(c *forwarder.Call, raw string) string {
	v := strings.TrimSpace(raw)
	if v == "" {
		return ""
	}
	n, problem := parseCount(v)
	if problem != "" {
		return problem
	}
	c.Survey.Value = &n
	return ""
}

func setClientID(c *forwarder.Call, raw string) string {
	id, ok := normaliseClientID(strings.TrimSpace(raw))
	if !ok {
		return "not a GA client id"
	}
	c.GAClientID = id
	return ""
}

// maxGCLIDLen is far above real click ids (about 100 bytes) and bounds what
// is sent to Google.
const maxGCLIDLen = 512

func setGCLID(c *forwarder.Call, raw string) string {
	v := strings.TrimSpace(raw)
	if len(v) > maxGCLIDLen {
		return "longer than 512 bytes"
	}
	if strings.ContainsFunc(v, isSpace) {
		return "contains whitespace"
	}
	c.GCLID = v
	return ""
}
