package ga4

import (
	"slices"
	"strconv"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/jsonenc"
)

// The Measurement Protocol bodies are written here directly, member by
// member, with the bytes encoding/json gives the request types of
// encode_test.go (fields in their declaration order, map keys sorted,
// strings with HTML escaping); the tests hold the two to byte equality,
// on examples and under fuzzing. Strings and numbers, what rules put in
// params and user properties, are written here; any other value, and
// any string needing an escape, is written by encoding/json.

// engagementDefault is the engagement_time_msec sent when the rule sets
// none.
const engagementDefault = "1"

// appendClientID opens the request object of ev with its first member,
// client_id; appendTail closes it.
func appendClientID(b []byte, ev *forwarder.GA4Event) []byte {
	b = append(b, `{"client_id":`...)
	return jsonenc.AppendString(b, ev.ClientID)
}

// appendTail appends the user_properties and consent members of ev (those
// it has) and closes the request object.
func appendTail(b []byte, ev *forwarder.GA4Event) ([]byte, error) {
	if len(ev.UserProperties) > 0 {
		b = append(b, `,"user_properties":{`...)
		var arr [16]string
		for i, name := range sortedKeys(arr[:0], ev.UserProperties, "") {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, name)
			b = append(b, `:{"value":`...)
			var err error
			if b, err = jsonenc.AppendValue(b, ev.UserProperties[name]); err != nil {
				return nil, err
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if c := ev.Consent; c != nil {
		b = append(b, `,"consent":{`...)
		if c.AdUserData != "" {
			b = append(b, `"ad_user_data":`...)
			b = jsonenc.AppendString(b, c.AdUserData)
		}
		if c.AdPersonalization != "" {
			if c.AdUserData != "" {
				b = append(b, ',')
			}
			b = append(b, `"ad_personalization":`...)
			b = jsonenc.AppendString(b, c.AdPersonalization)
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendEvent appends the event object of ev: its name and params, with
// engagement_time_msec set to 1 when the rule did not set it, and, when
// withTime, its own timestamp_micros ts (an event of a request with
// several).
func appendEvent(b []byte, ev *forwarder.GA4Event, withTime bool, ts int64) ([]byte, error) {
	b = append(b, `{"name":`...)
	b = jsonenc.AppendString(b, ev.Name)
	b = append(b, `,"params":{`...)
	_, set := ev.Params[engagementParam]
	extra := engagementParam
	if set {
		extra = ""
	}
	var arr [16]string
	for i, k := range sortedKeys(arr[:0], ev.Params, extra) {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, k)
		b = append(b, ':')
		if k == extra {
			b = append(b, engagementDefault...)
			continue
		}
		var err error
		if b, err = jsonenc.AppendValue(b, ev.Params[k]); err != nil {
			return nil, err
		}
	}
	b = append(b, '}')
	if withTime {
		b = append(b, `,"timestamp_micros":`...)
		b = strconv.AppendInt(b, ts, 10)
	}
	return append(b, '}'), nil
}

// appendPayload appends the body of a request carrying the one event of
// ev, at ts (0: left out, Google uses the time it receives it).
func appendPayload(b []byte, ev *forwarder.GA4Event, ts int64) ([]byte, error) {
	b = appendClientID(b, ev)
	if ts != 0 {
		b = append(b, `,"timestamp_micros":`...)
		b = strconv.AppendInt(b, ts, 10)
	}
	b = append(b, `,"events":[`...)
	var err error
	if b, err = appendEvent(b, ev, false, 0); err != nil {
		return nil, err
	}
	b = append(b, ']')
	return appendTail(b, ev)
}

// sortedKeys appends to keys those of m and extra (when not "") and
// sorts them in the order encoding/json writes a map's members.
func sortedKeys(keys []string, m map[string]any, extra string) []string {
	for k := range m {
		keys = append(keys, k)
	}
	if extra != "" {
		keys = append(keys, extra)
	}
	slices.Sort(keys)
	return keys
}
