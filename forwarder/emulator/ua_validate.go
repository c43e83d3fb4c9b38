package emulator

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Universal Analytics Measurement Protocol v1 limits.
const (
	maxUABody       = 8192 // bytes of one /collect payload
	maxUAQueueTime  = 4 * time.Hour
	uaMessageError  = "ERROR"
	uaMessageWarn   = "WARN"
	uaMessageInfo   = "INFO"
	uaCodeRequired  = "VALUE_REQUIRED"
	uaCodeInvalid   = "VALUE_INVALID"
	uaCodeTooLong   = "VALUE_TOO_LONG"
	uaCodeOutBounds = "VALUE_OUT_OF_BOUNDS"
)

var (
	uaTrackingIDPattern = regexp.MustCompile(`^UA-\d+-\d+$`)
	uaUnsignedPattern   = regexp.MustCompile(`^\d+$`)
	uaCustomPattern     = regexp.MustCompile(`^c[dm][1-9]\d{0,2}$`)
)

// uaByteLimits are the documented byte limits of the parameters checked.
var uaByteLimits = map[string]int{
	"ec": 150, "ea": 500, "el": 500,
	"cn": 100, "cs": 100, "cm": 50, "ck": 500, "cc": 500, "ci": 100,
	"dr": 2048,
}

// uaHitTypes are the values t may take.
var uaHitTypes = setOf("pageview", "screenview", "event", "transaction", "item", "social", "exception", "timing")

// uaKnownParams are the parameters the emulator knows; others (but cd<i>
// and cm<i>) get a warning, which does not drop the hit.
var uaKnownParams = setOf("v", "tid", "cid", "uid", "t", "ec", "ea", "el", "ev", "ni", "qt", "z",
	"cn", "cs", "cm", "ck", "cc", "ci", "gclid", "dclid", "dr", "uip", "ua", "geoid",
	"aip", "npa", "ds", "sc", "dl", "dh", "dp", "dt", "ul", "cu")

// uaCampaignParams are the campaign parameters recorded on a kept hit.
var uaCampaignParams = []string{"cn", "cs", "cm", "ck", "cc", "ci"}

// UAParserMessage is one finding, in the shape the UA validation server
// (/debug/collect) answered. MessageType ERROR makes the hit invalid: the
// collector drops it; WARN and INFO do not.
type UAParserMessage struct {
	MessageType string `json:"messageType"`
	MessageCode string `json:"messageCode,omitempty"`
	Description string `json:"description"`
	Parameter   string `json:"parameter,omitempty"`
}

// uaParsed is one parsed /collect payload with its findings.
type uaParsed struct {
	params   url.Values
	messages []UAParserMessage
}

// valid reports whether no finding is an error.
func (p *uaParsed) valid() bool {
	return !slices.ContainsFunc(p.messages, func(m UAParserMessage) bool { return m.MessageType == uaMessageError })
}

func (p *uaParsed) report(typ, code, param, format string, args ...any) {
	p.messages = append(p.messages, UAParserMessage{
		MessageType: typ, MessageCode: code, Parameter: param, Description: fmt.Sprintf(format, args...),
	})
}

// parseUA validates a payload as the UA validation server did, and more
// strictly where the rules were not documented (a qt past 4 h is an error,
// not a maybe).
func parseUA(body []byte) uaParsed {
	var p uaParsed
	if len(body) > maxUABody {
		p.report(uaMessageError, uaCodeTooLong, "", "The payload is %d bytes; a hit must not exceed %d bytes.", len(body), maxUABody)
	}
	params, err := url.ParseQuery(string(body))
	p.params = params
	if err != nil {
		p.report(uaMessageError, uaCodeInvalid, "", "Unable to parse the payload: %v.", err)
		return p
	}
	p.required()
	p.values()
	p.lengths()
	p.unknown()
	return p
}

// required checks v, tid, cid/uid, t and the event fields.
func (p *uaParsed) required() {
	get := p.params.Get
	switch v := get("v"); {
	case v == "":
		p.report(uaMessageError, uaCodeRequired, "v", "A value is required for parameter 'v'.")
	case v != "1":
		p.report(uaMessageError, uaCodeInvalid, "v", "The value provided for parameter 'v' is invalid: only version 1 exists.")
	}
	switch tid := get("tid"); {
	case tid == "":
		p.report(uaMessageError, uaCodeRequired, "tid", "A value is required for parameter 'tid'.")
	case !uaTrackingIDPattern.MatchString(tid):
		p.report(uaMessageError, uaCodeInvalid, "tid", "The value provided for parameter 'tid' is invalid: want UA-XXXX-Y.")
	}
	if get("cid") == "" && get("uid") == "" {
		p.report(uaMessageError, uaCodeRequired, "cid", "A value is required for parameter 'cid' (or 'uid').")
	}
	switch t := get("t"); {
	case t == "":
		p.report(uaMessageError, uaCodeRequired, "t", "A value is required for parameter 't'.")
	case !uaHitTypes[t]:
		p.report(uaMessageError, uaCodeInvalid, "t", "The value provided for parameter 't' is invalid: %q is not a hit type.", t)
	case t == "event":
		for _, k := range []string{"ec", "ea"} {
			if get(k) == "" {
				p.report(uaMessageError, uaCodeRequired, k, "A value is required for parameter '%s' in an event hit.", k)
			}
		}
	}
}

// values checks ev, ni and qt.
func (p *uaParsed) values() {
	if ev, ok := p.lookup("ev"); ok {
		if _, err := strconv.ParseInt(ev, 10, 64); err != nil || !uaUnsignedPattern.MatchString(ev) {
			p.report(uaMessageError, uaCodeInvalid, "ev", "The value provided for parameter 'ev' is invalid: want a non-negative integer.")
		}
	}
	if ni, ok := p.lookup("ni"); ok && ni != "0" && ni != "1" {
		p.report(uaMessageError, uaCodeInvalid, "ni", "The value provided for parameter 'ni' is invalid: want 0 or 1.")
	}
	if qt, ok := p.lookup("qt"); ok {
		ms, err := strconv.ParseInt(qt, 10, 64)
		switch {
		case err != nil || !uaUnsignedPattern.MatchString(qt):
			p.report(uaMessageError, uaCodeInvalid, "qt", "The value provided for parameter 'qt' is invalid: want a non-negative integer of milliseconds.")
		case ms > maxUAQueueTime.Milliseconds():
			p.report(uaMessageError, uaCodeOutBounds, "qt", "Queue time %d ms is more than 4 hours; the hit is dropped.", ms)
		}
	}
}

// lengths checks the byte limits.
func (p *uaParsed) lengths() {
	for _, k := range uaParamNames(p.params) {
		limit, ok := uaByteLimits[k]
		if uaCustomPattern.MatchString(k) && k[1] == 'd' {
			limit, ok = 150, true
		}
		if ok && len(p.params.Get(k)) > limit {
			p.report(uaMessageError, uaCodeTooLong, k, "The value provided for parameter '%s' is %d bytes, more than the %d allowed.", k, len(p.params.Get(k)), limit)
		}
	}
}

// unknown warns about parameters the emulator does not know.
func (p *uaParsed) unknown() {
	for _, k := range uaParamNames(p.params) {
		if !uaKnownParams[k] && !uaCustomPattern.MatchString(k) {
			p.report(uaMessageWarn, "", k, "Parameter '%s' is unknown and is ignored.", k)
		}
	}
}

// lookup returns the first value of k and whether k was given.
func (p *uaParsed) lookup(k string) (string, bool) {
	vs, ok := p.params[k]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// record returns the kept hit of a valid payload received at receivedAt.
func (p *uaParsed) record(receivedAt time.Time) UAHit {
	get := p.params.Get
	h := UAHit{
		TrackingID: get("tid"), ClientID: get("cid"), UserID: get("uid"), HitType: get("t"),
		Category: get("ec"), Action: get("ea"), Label: get("el"),
		NonInteraction: get("ni") == "1", HitTime: receivedAt, ReceivedAt: receivedAt,
	}
	if ev, ok := p.lookup("ev"); ok {
		n, _ := strconv.ParseInt(ev, 10, 64)
		h.Value = &n
	}
	if qt, ok := p.lookup("qt"); ok {
		h.QueueTimeMillis, _ = strconv.ParseInt(qt, 10, 64)
		h.HitTime = receivedAt.Add(-time.Duration(h.QueueTimeMillis) * time.Millisecond)
	}
	for _, k := range uaCampaignParams {
		if v := get(k); v != "" {
			if h.Campaign == nil {
				h.Campaign = map[string]string{}
			}
			h.Campaign[k] = v
		}
	}
	return h
}

// firstValues returns the first value of each parameter.
func firstValues(v url.Values) map[string]string {
	out := make(map[string]string, len(v))
	for k, vs := range v {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out
}

// uaParamNames returns the parameter names of v in order.
func uaParamNames(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
