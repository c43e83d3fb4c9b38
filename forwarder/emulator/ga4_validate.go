package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/callforward/callforward/forwarder/ga4/reserved"
)

// GA4 Measurement Protocol limits.
const (
	maxGA4Body       = 130_000 // a body must be smaller than 130 kB
	maxEvents        = 25
	maxParams        = 25
	maxNameLen       = 40
	maxParamValueLen = 100
	maxEventAge      = 72 * time.Hour
	// User properties: per request, name and string value lengths.
	maxUserProps        = 25
	maxUserPropNameLen  = 24
	maxUserPropValueLen = 36
)

// Validation codes, as Google's validation server names them.
const (
	codeValueInvalid     = "VALUE_INVALID"
	codeValueRequired    = "VALUE_REQUIRED"
	codeNameInvalid      = "NAME_INVALID"
	codeNameReserved     = "NAME_RESERVED"
	codeOutOfBounds      = "VALUE_OUT_OF_BOUNDS"
	codeExceededEntities = "EXCEEDED_MAX_ENTITIES"
)

var measurementIDPattern = regexp.MustCompile(`^G-[A-Z0-9]+$`)

// knownRequestFields and knownEventFields are the JSON fields of a web
// stream request; anything else is refused as Google's proto parser does.
var (
	knownRequestFields = setOf("client_id", "app_instance_id", "user_id", "timestamp_micros",
		"user_properties", "user_data", "consent", "non_personalized_ads", "user_location",
		"ip_override", "device", "validation_behavior", "events")
	knownEventFields        = setOf("name", "params", "timestamp_micros")
	knownUserPropertyFields = setOf("value", "timestamp_micros")
	knownConsentFields      = setOf("ad_user_data", "ad_personalization")
)

// ga4ConsentValues are the values of a consent signal.
var ga4ConsentValues = []string{"GRANTED", "DENIED"}

// ValidationMessage is one finding, in the shape Google's validation
// server answers.
type ValidationMessage struct {
	FieldPath      string `json:"fieldPath"`
	Description    string `json:"description"`
	ValidationCode string `json:"validationCode"`
}

// ga4Hit is one parsed Measurement Protocol request with its findings.
type ga4Hit struct {
	measurementID   string
	apiSecret       string
	clientID        string
	timestampMicros int64
	// userProperties are the values of the request's user properties.
	userProperties map[string]any
	// consent holds the request's consent signals by name.
	consent map[string]string
	events  []ga4Parsed
	// problems concern the whole request: every event is dropped for them.
	problems []ValidationMessage
}

// ga4Parsed is one event of a request with its own findings.
type ga4Parsed struct {
	name            string
	params          map[string]any
	timestampMicros int64
	problems        []ValidationMessage
}

// messages returns every finding of the request, as the debug endpoint
// reports them.
func (h *ga4Hit) messages() []ValidationMessage {
	out := slices.Clone(h.problems)
	for _, e := range h.events {
		out = append(out, e.problems...)
	}
	if out == nil {
		out = []ValidationMessage{}
	}
	return out
}

// hitParser validates one request.
type hitParser struct {
	now time.Time
	hit ga4Hit
}

func (p *hitParser) report(problems *[]ValidationMessage, path, code, format string, args ...any) {
	*problems = append(*problems, ValidationMessage{FieldPath: path, ValidationCode: code, Description: fmt.Sprintf(format, args...)})
}

// parseGA4 validates a request like Google's validation server does.
// checkSecret is false for the debug endpoint, which does not check it.
func parseGA4(query url.Values, body []byte, now time.Time, checkSecret bool) ga4Hit {
	p := &hitParser{now: now}
	h := &p.hit
	h.measurementID = query.Get("measurement_id")
	h.apiSecret = query.Get("api_secret")
	switch {
	case h.measurementID == "":
		p.report(&h.problems, "measurement_id", codeValueRequired, "measurement_id is required in the query string for a web stream.")
	case !measurementIDPattern.MatchString(h.measurementID):
		p.report(&h.problems, "measurement_id", codeValueInvalid, "Measurement ID [%s] is not a web stream measurement id (G-XXXXXXXXXX).", h.measurementID)
	}
	if checkSecret && h.apiSecret == "" {
		p.report(&h.problems, "api_secret", codeValueRequired, "api_secret is required in the query string; without it the request is dropped.")
	}
	root, err := decodeObject(body)
	if err != nil {
		p.report(&h.problems, "", codeValueInvalid, "Unable to parse Measurement Protocol JSON payload. %v", err)
		return *h
	}
	p.request(root)
	return *h
}

// decodeObject decodes body as one JSON object, numbers kept as json.Number.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON object")
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, errors.New("the payload is not a JSON object")
	}
	return obj, nil
}

func (p *hitParser) request(root map[string]any) {
	h := &p.hit
	for _, k := range sortedKeys(root) {
		if !knownRequestFields[k] {
			p.report(&h.problems, k, codeValueInvalid, "Cannot find field: %q.", k)
		}
	}
	rawClientID := root["client_id"]
	clientID, isString := rawClientID.(string)
	switch {
	case rawClientID == nil || isString && clientID == "":
		p.report(&h.problems, "client_id", codeValueRequired, "client_id is required for a web stream.")
	case !isString:
		p.report(&h.problems, "client_id", codeValueInvalid, "client_id must be a string.")
	default:
		h.clientID = clientID
	}
	if v, ok := root["user_id"]; ok {
		if _, isString := v.(string); !isString {
			p.report(&h.problems, "user_id", codeValueInvalid, "user_id must be a string.")
		}
	}
	if v, ok := root["timestamp_micros"]; ok {
		h.timestampMicros = p.timestamp(&h.problems, "timestamp_micros", v)
	}
	if v, ok := root["user_properties"]; ok {
		h.userProperties = p.userProperties(v)
	}
	if v, ok := root["consent"]; ok {
		h.consent = p.consent(v)
	}
	raw, ok := root["events"]
	if !ok {
		p.report(&h.problems, "events", codeValueRequired, "At least one event is required.")
		return
	}
	events, ok := raw.([]any)
	switch {
	case !ok:
		p.report(&h.problems, "events", codeValueInvalid, "events must be an array.")
		return
	case len(events) == 0:
		p.report(&h.problems, "events", codeValueRequired, "At least one event is required.")
		return
	case len(events) > maxEvents:
		p.report(&h.problems, "events", codeExceededEntities, "A request can have at most %d events; it has %d.", maxEvents, len(events))
	}
	for i, ev := range events {
		h.events = append(h.events, p.event(i, ev))
	}
}

// userProperties checks the request's user properties, which apply to
// every event of the request: findings about them are request-level. It
// returns their values by name.
func (p *hitParser) userProperties(raw any) map[string]any {
	problems := &p.hit.problems
	props, ok := raw.(map[string]any)
	if !ok {
		p.report(problems, "user_properties", codeValueInvalid, "user_properties must be an object.")
		return nil
	}
	if len(props) > maxUserProps {
		p.report(problems, "user_properties", codeExceededEntities, "A request can have at most %d user properties; it has %d.", maxUserProps, len(props))
	}
	values := make(map[string]any, len(props))
	for _, name := range sortedKeys(props) {
		path := "user_properties." + name
		switch {
		case isReserved(reserved.UserProperty, name):
			p.report(problems, path, codeNameReserved, "User property [%s] has a reserved name.", name)
		case !validName(name) || len(name) > maxUserPropNameLen:
			p.report(problems, path, codeNameInvalid,
				"User property [%s] has an invalid name. Names must start with a letter, hold only letters, digits and underscores, and be at most %d characters long.",
				name, maxUserPropNameLen)
		}
		prop, ok := props[name].(map[string]any)
		if !ok {
			p.report(problems, path, codeValueInvalid, "User property [%s] must be an object with a value.", name)
			continue
		}
		for _, k := range sortedKeys(prop) {
			if !knownUserPropertyFields[k] {
				p.report(problems, path+"."+k, codeValueInvalid, "Cannot find field: %q.", k)
			}
		}
		if ts, ok := prop["timestamp_micros"]; ok {
			p.timestamp(problems, path+".timestamp_micros", ts)
		}
		v, ok := prop["value"]
		if !ok {
			p.report(problems, path+".value", codeValueRequired, "User property [%s] has no value.", name)
			continue
		}
		switch v := v.(type) {
		case nil, json.Number: // null clears the property
		case string:
			if n := utf8.RuneCountInString(v); n > maxUserPropValueLen {
				p.report(problems, path+".value", codeOutOfBounds, "Value of user property [%s] is %d characters long; the limit is %d.", name, n, maxUserPropValueLen)
			}
		default:
			p.report(problems, path+".value", codeValueInvalid, "User property [%s] must be a string or a number.", name)
		}
		values[name] = plain(v)
	}
	return values
}

// consent checks the request-level consent, whose signals are GRANTED or
// DENIED; it returns the signals by name.
func (p *hitParser) consent(raw any) map[string]string {
	problems := &p.hit.problems
	obj, ok := raw.(map[string]any)
	if !ok {
		p.report(problems, "consent", codeValueInvalid, "consent must be an object.")
		return nil
	}
	out := map[string]string{}
	for _, k := range sortedKeys(obj) {
		path := "consent." + k
		if !knownConsentFields[k] {
			p.report(problems, path, codeValueInvalid, "Cannot find field: %q.", k)
			continue
		}
		v, isString := obj[k].(string)
		if !isString || !slices.Contains(ga4ConsentValues, v) {
			p.report(problems, path, codeValueInvalid, "Consent value [%v] of %s is invalid; it must be GRANTED or DENIED.", obj[k], k)
			continue
		}
		out[k] = v
	}
	return out
}

// timestamp checks a timestamp_micros value and returns it (0 when invalid).
func (p *hitParser) timestamp(problems *[]ValidationMessage, path string, v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		p.report(problems, path, codeValueInvalid, "%s must be an integer number of microseconds.", path)
		return 0
	}
	us, err := n.Int64()
	if err != nil {
		p.report(problems, path, codeValueInvalid, "%s must be an integer number of microseconds.", path)
		return 0
	}
	if p.now.Sub(time.UnixMicro(us)) > maxEventAge {
		p.report(problems, path, codeOutOfBounds, "%s is more than 72 hours in the past; the event cannot be recorded.", path)
	}
	return us
}

func (p *hitParser) event(i int, raw any) ga4Parsed {
	var e ga4Parsed
	path := fmt.Sprintf("events[%d]", i)
	obj, ok := raw.(map[string]any)
	if !ok {
		p.report(&e.problems, path, codeValueInvalid, "Event at index: [%d] must be an object.", i)
		return e
	}
	for _, k := range sortedKeys(obj) {
		if !knownEventFields[k] {
			p.report(&e.problems, path+"."+k, codeValueInvalid, "Cannot find field: %q.", k)
		}
	}
	rawName := obj["name"]
	name, isString := rawName.(string)
	switch {
	case rawName == nil || isString && name == "":
		p.report(&e.problems, path+".name", codeValueRequired, "Event at index: [%d] has no name.", i)
	case !isString:
		p.report(&e.problems, path+".name", codeValueInvalid, "Event at index: [%d] has a name that is not a string.", i)
	default:
		e.name = name
		switch {
		case isReserved(reserved.Event, name):
			p.report(&e.problems, path+".name", codeNameReserved, "Event at index: [%d] has name [%s] which is reserved.", i, name)
		case !validName(name):
			p.report(&e.problems, path+".name", codeNameInvalid,
				"Event at index: [%d] has invalid name [%s]. Names must start with a letter, hold only letters, digits and underscores, and be at most %d characters long.",
				i, name, maxNameLen)
		}
	}
	if v, ok := obj["timestamp_micros"]; ok {
		e.timestampMicros = p.timestamp(&e.problems, path+".timestamp_micros", v)
	}
	if raw, ok := obj["params"]; ok {
		e.params = p.params(&e.problems, path+".params", raw)
	}
	return e
}

func (p *hitParser) params(problems *[]ValidationMessage, path string, raw any) map[string]any {
	params, ok := raw.(map[string]any)
	if !ok {
		p.report(problems, path, codeValueInvalid, "params must be an object.")
		return nil
	}
	if len(params) > maxParams {
		p.report(problems, path, codeExceededEntities, "An event can have at most %d params; it has %d.", maxParams, len(params))
	}
	out := make(map[string]any, len(params))
	for _, name := range sortedKeys(params) {
		v := params[name]
		out[name] = plain(v)
		fp := path + "." + name
		switch {
		case isReserved(reserved.Param, name):
			p.report(problems, fp, codeNameReserved, "Param [%s] has a reserved name.", name)
			continue
		case !validName(name):
			p.report(problems, fp, codeNameInvalid,
				"Param [%s] has an invalid name. Names must start with a letter, hold only letters, digits and underscores, and be at most %d characters long.",
				name, maxNameLen)
			continue
		}
		switch v := v.(type) {
		case json.Number:
		case string:
			limit, ok := paramValueLimits[name]
			if !ok {
				limit = maxParamValueLen
			}
			if n := utf8.RuneCountInString(v); n > limit {
				p.report(problems, fp, codeOutOfBounds, "Value of param [%s] is %d characters long; the limit is %d.", name, n, limit)
			}
		case []any:
			if name != "items" {
				p.report(problems, fp, codeValueInvalid, "Param [%s] must be a string or a number.", name)
			}
		default:
			p.report(problems, fp, codeValueInvalid, "Param [%s] must be a string or a number.", name)
		}
	}
	return out
}

// plain turns the json.Numbers in v into float64, as encoding/json decodes
// numbers by default.
func plain(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return v.String()
		}
		return f
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = plain(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = plain(x)
		}
		return out
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
