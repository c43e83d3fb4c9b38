package mapping

import (
	"strings"

	"github.com/callforward/callforward/forwarder"
)

// A field is a piece of a call a rule can reference as {{Name}}. Fields are
// resolved when the file is loaded, so evaluation calls an accessor
// directly instead of looking a name up.
type field struct {
	// name is the webhook's own dotted parameter name.
	name string
	// str reads a text field; "" means absent.
	str func(*forwarder.Call) string
	// num reads a whole-number field; ok is false when absent. Exactly one
	// of str and num is set.
	num func(*forwarder.Call) (v int, ok bool)
	// personal, when set, says why the field may not be sent to GA4.
	personal string
}

const (
	piiPhone    = "it is the caller's phone number, and Google's policy forbids personal data in GA4 event parameters"
	piiEndpoint = "it is the phone number the call was transferred to, and Google's policy forbids personal data in GA4 event parameters"
	piiClientID = "it identifies the website visitor; GA4 already receives it as the event's client id, and Google's policy forbids identifiers in event parameters"
	piiGCLID    = "it is the Google Ads click id; GA4 reserves gclid and Google's policy forbids identifiers in event parameters (send it to Google Ads instead)"
	piiRecord   = "the recording holds the caller's voice and number, and Google's policy forbids personal data in GA4 event parameters"
)

// knownFields are the documented webhook parameters.
var knownFields = []*field{
	{name: "Action", str: func(c *forwarder.Call) string { return c.Action }},
	{name: "Event", str: func(c *forwarder.Call) string { return string(c.Event) }},
	{name: "Account.Sid", str: func(c *forwarder.Call) string { return c.AccountSid }},
	{name: "Property.Sid", str: func(c *forwarder.Call) string { return c.PropertySid }},
	{name: "Property.Name", str: func(c *forwarder.Call) string { return c.PropertyName }},
	{name: "Property.Type", str: func(c *forwarder.Call) string { return c.PropertyType }},
	{name: "Call.Sid", str: func(c *forwarder.Call) string { return c.Sid }},
	{name: "Call.StartDate", str: startDate},
	{name: "Call.From", str: func(c *forwarder.Call) string { return c.From }, personal: piiPhone},
	{name: "Call.From.Country", str: func(c *forwarder.Call) string { return c.FromCountry }},
	{name: "Call.From.Region", str: func(c *forwarder.Call) string { return c.FromRegion }},
	{name: "Call.From.City", str: func(c *forwarder.Call) string { return c.FromCity }},
	{name: "Call.To", str: func(c *forwarder.Call) string { return c.To }},
	{name: "Call.To.Type", str: func(c *forwarder.Call) string { return c.ToType }},
	{name: "Call.To.Name", str: func(c *forwarder.Call) string { return c.ToName }},
	{name: "Call.Duration", num: func(c *forwarder.Call) (int, bool) { return deref(c.Duration) }},
	{name: "Call.Disposition", str: func(c *forwarder.Call) string { return string(c.Disposition) }},
	{name: "Call.Recording.Uri", str: func(c *forwarder.Call) string { return c.RecordingURI }, personal: piiRecord},
	{name: "Call.Endpoint", str: func(c *forwarder.Call) string { return c.Endpoint }, personal: piiEndpoint},
	{name: "Call.Survey.Type", str: func(c *forwarder.Call) string { return c.Survey.Type }},
	{name: "Call.Survey.Value", num: func(c *forwarder.Call) (int, bool) { return deref(c.Survey.Value) }},
	{name: "Call.Survey.Custom1", str: func(c *forwarder.Call) string { return c.Survey.Custom1 }},
	{name: "Call.Survey.Custom2", str: func(c *forwarder.Call) string { return c.Survey.Custom2 }},
	{name: "Call.Survey.Custom3", str: func(c *forwarder.Call) string { return c.Survey.Custom3 }},
	{name: "Call.Survey.UniqueCode", str: func(c *forwarder.Call) string { return c.Survey.UniqueCode }},
	{name: "Call.Prompts.Postcode", str: func(c *forwarder.Call) string { return strings.Join(c.Prompts.Postcodes, ",") }},
	{name: "Call.Prompts.Keys", str: func(c *forwarder.Call) string { return strings.Join(c.Prompts.Keys, ",") }},
	{name: "Attribution.Source", str: func(c *forwarder.Call) string { return c.Attribution.Source }},
	{name: "Attribution.Medium", str: func(c *forwarder.Call) string { return c.Attribution.Medium }},
	{name: "Attribution.Campaign", str: func(c *forwarder.Call) string { return c.Attribution.Campaign }},
	{name: "Attribution.Content", str: func(c *forwarder.Call) string { return c.Attribution.Content }},
	{name: "Session.Traffic.Type", str: func(c *forwarder.Call) string { return c.Session.TrafficType }},
	{name: "Session.Keywords", str: func(c *forwarder.Call) string { return c.Session.Keywords }},
	{name: "Session.ConversionUri", str: func(c *forwarder.Call) string { return c.Session.ConversionURI }},
	{name: "Session.LandingUri", str: func(c *forwarder.Call) string { return c.Session.LandingURI }},
	{name: "Google.Analytics.ClientId", str: func(c *forwarder.Call) string { return c.GAClientID }, personal: piiClientID},
	{name: "Google.AdWords.ClickId", str: func(c *forwarder.Call) string { return c.GCLID }, personal: piiGCLID},
}

// fieldsByName indexes knownFields by lower-cased name.
var fieldsByName = func() map[string]*field {
	m := make(map[string]*field, len(knownFields))
	for _, f := range knownFields {
		m[strings.ToLower(f.name)] = f
	}
	return m
}()

// fieldNames lists the documented names, for suggestions.
var fieldNames = func() []string {
	names := make([]string, len(knownFields))
	for i, f := range knownFields {
		names[i] = f.name
	}
	return names
}()

// lookupField returns the field called name (case-insensitive). known is
// false for undocumented names, which read the call's extra parameters.
func lookupField(name string) (f *field, known bool) {
	if f, ok := fieldsByName[strings.ToLower(name)]; ok {
		return f, true
	}
	return &field{name: name, str: func(c *forwarder.Call) string { return extra(c, name) }}, false
}

// extra reads an undocumented parameter, matching its name exactly first
// and then case-insensitively.
func extra(c *forwarder.Call, name string) string {
	if v, ok := c.Extra[name]; ok {
		return v
	}
	for k, v := range c.Extra {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func deref(p *int) (int, bool) {
	if p == nil {
		return 0, false
	}
	return *p, true
}

// webhookTime is the platform's layout for Call.StartDate.
const webhookTime = "2006-01-02 15:04:05"

func startDate(c *forwarder.Call) string {
	if c.StartDate.IsZero() {
		return ""
	}
	return c.StartDate.UTC().Format(webhookTime)
}
