package store

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/jsonenc"
)

// The stores keep calls and jobs as JSON. Intake encodes a call and one
// job per delivery for every webhook, so those are written here directly,
// member by member, instead of through encoding/json's reflection: the
// bytes are those of json.Marshal (fields in their declaration order,
// omitempty and omitzero as encoding/json applies them, map keys sorted,
// times as time.Time.MarshalJSON writes them, strings with HTML
// escaping), so that the stored bytes are the same as those of a release
// that encoded through encoding/json, and either release reads what the
// other wrote. The tests hold the two to byte
// equality, field by field, on the sample webhooks and under fuzzing, and
// fail when one of these types gains a field the encoders do not know.
//
// A map value in GA4 params or user properties that is not a string, a
// number, a bool or nil is written by encoding/json.

// AppendCall appends to dst the JSON encoding of c, the bytes of
// json.Marshal(c), and returns the extended buffer. It fails where
// json.Marshal fails (a time whose year is outside 0-9999); dst is then
// returned as it was.
func AppendCall(dst []byte, c *forwarder.Call) ([]byte, error) {
	if c == nil {
		return append(dst, "null"...), nil
	}
	b := append(dst, `{"action":`...)
	b = jsonenc.AppendString(b, c.Action)
	b = append(b, `,"event":`...)
	b = jsonenc.AppendString(b, string(c.Event))
	b = append(b, `,"account_sid":`...)
	b = jsonenc.AppendString(b, c.AccountSid)
	b = append(b, `,"property_sid":`...)
	b = jsonenc.AppendString(b, c.PropertySid)
	b = optString(b, `,"property_name":`, c.PropertyName)
	b = optString(b, `,"property_type":`, c.PropertyType)
	b = append(b, `,"sid":`...)
	b = jsonenc.AppendString(b, c.Sid)
	b = append(b, `,"start_date":`...)
	var err error
	if b, err = appendTime(b, c.StartDate); err != nil {
		return dst, fmt.Errorf("encode call %s: start_date: %w", c.Sid, err)
	}
	b = optString(b, `,"from":`, c.From)
	b = optString(b, `,"from_country":`, c.FromCountry)
	b = optString(b, `,"from_region":`, c.FromRegion)
	b = optString(b, `,"from_city":`, c.FromCity)
	b = optString(b, `,"to":`, c.To)
	b = optString(b, `,"to_type":`, c.ToType)
	b = optString(b, `,"to_name":`, c.ToName)
	b = optInt(b, `,"duration":`, c.Duration)
	b = optString(b, `,"disposition":`, string(c.Disposition))
	b = optString(b, `,"recording_uri":`, c.RecordingURI)
	b = optString(b, `,"endpoint":`, c.Endpoint)
	if s := c.Survey; s != (forwarder.Survey{}) {
		b = append(b, `,"survey":{`...)
		b = optMember(b, `"type":`, s.Type)
		if s.Value != nil {
			b = member(b, `"value":`)
			b = strconv.AppendInt(b, int64(*s.Value), 10)
		}
		b = optMember(b, `"custom1":`, s.Custom1)
		b = optMember(b, `"custom2":`, s.Custom2)
		b = optMember(b, `"custom3":`, s.Custom3)
		b = optMember(b, `"unique_code":`, s.UniqueCode)
		b = append(b, '}')
	}
	if p := c.Prompts; p.Postcodes != nil || p.Keys != nil {
		b = append(b, `,"prompts":{`...)
		if len(p.Postcodes) > 0 {
			b = appendStrings(member(b, `"postcodes":`), p.Postcodes)
		}
		if len(p.Keys) > 0 {
			b = appendStrings(member(b, `"keys":`), p.Keys)
		}
		b = append(b, '}')
	}
	if a := c.Attribution; a != (forwarder.Attribution{}) {
		b = append(b, `,"attribution":{`...)
		b = optMember(b, `"source":`, a.Source)
		b = optMember(b, `"medium":`, a.Medium)
		b = optMember(b, `"campaign":`, a.Campaign)
		b = optMember(b, `"content":`, a.Content)
		b = append(b, '}')
	}
	if s := c.Session; s != (forwarder.Session{}) {
		b = append(b, `,"session":{`...)
		b = optMember(b, `"traffic_type":`, s.TrafficType)
		b = optMember(b, `"keywords":`, s.Keywords)
		b = optMember(b, `"conversion_uri":`, s.ConversionURI)
		b = optMember(b, `"landing_uri":`, s.LandingURI)
		b = append(b, '}')
	}
	b = optString(b, `,"ga_client_id":`, c.GAClientID)
	b = optString(b, `,"gclid":`, c.GCLID)
	if len(c.Extra) > 0 {
		b = appendStringMap(append(b, `,"extra":`...), c.Extra)
	}
	if len(c.Dropped) > 0 {
		b = append(b, `,"dropped":[`...)
		for i, f := range c.Dropped {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"field":`...)
			b = jsonenc.AppendString(b, f.Field)
			b = append(b, `,"reason":`...)
			b = jsonenc.AppendString(b, f.Reason)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if h := c.History; h != nil {
		b = append(b, `,"caller_history":{`...)
		b = optMember(b, `"key":`, h.Key)
		b = member(b, `"at":`)
		if b, err = appendTime(b, h.At); err != nil {
			return dst, fmt.Errorf("encode call %s: caller_history.at: %w", c.Sid, err)
		}
		if !h.Previous.IsZero() {
			b = append(b, `,"previous":`...)
			if b, err = appendTime(b, h.Previous); err != nil {
				return dst, fmt.Errorf("encode call %s: caller_history.previous: %w", c.Sid, err)
			}
		}
		if h.Unavailable {
			b = append(b, `,"unavailable":true`...)
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// AppendDelivery appends to dst the JSON encoding of d, the bytes of
// json.Marshal(d), and returns the extended buffer. It fails where
// json.Marshal fails (a time whose year is outside 0-9999, a value that is
// not a finite number, a GA4 parameter encoding/json refuses); dst is then
// returned as it was.
func AppendDelivery(dst []byte, d *forwarder.Delivery) ([]byte, error) {
	if d == nil {
		return append(dst, "null"...), nil
	}
	b, err := appendDelivery(dst, d)
	if err != nil {
		return dst, fmt.Errorf("encode delivery %s: %w", d.ID, err)
	}
	return b, nil
}

func appendDelivery(b []byte, d *forwarder.Delivery) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = jsonenc.AppendString(b, d.ID)
	b = append(b, `,"call_sid":`...)
	b = jsonenc.AppendString(b, d.CallSid)
	b = append(b, `,"rule":`...)
	b = jsonenc.AppendString(b, d.Rule)
	b = append(b, `,"destination":`...)
	b = jsonenc.AppendString(b, d.Destination)
	b = append(b, `,"type":`...)
	b = jsonenc.AppendString(b, d.Type)
	b = append(b, `,"call_time":`...)
	var err error
	if b, err = appendTime(b, d.CallTime); err != nil {
		return nil, fmt.Errorf("call_time: %w", err)
	}
	if d.GA4 != nil {
		if b, err = appendGA4(append(b, `,"ga4":`...), d.GA4); err != nil {
			return nil, fmt.Errorf("ga4: %w", err)
		}
	}
	if d.Ads != nil {
		if b, err = appendAds(append(b, `,"ads":`...), d.Ads); err != nil {
			return nil, fmt.Errorf("ads: %w", err)
		}
	}
	if d.UA != nil {
		if b, err = appendUA(append(b, `,"ua":`...), d.UA); err != nil {
			return nil, fmt.Errorf("ua: %w", err)
		}
	}
	b = optString(b, `,"trace":`, d.Trace)
	return append(b, '}'), nil
}

func appendGA4(b []byte, e *forwarder.GA4Event) ([]byte, error) {
	b = append(b, `{"measurement_id":`...)
	b = jsonenc.AppendString(b, e.MeasurementID)
	b = append(b, `,"client_id":`...)
	b = jsonenc.AppendString(b, e.ClientID)
	b = append(b, `,"name":`...)
	b = jsonenc.AppendString(b, e.Name)
	var err error
	if len(e.Params) > 0 {
		if b, err = appendAnyMap(append(b, `,"params":`...), e.Params); err != nil {
			return nil, fmt.Errorf("params: %w", err)
		}
	}
	if len(e.UserProperties) > 0 {
		if b, err = appendAnyMap(append(b, `,"user_properties":`...), e.UserProperties); err != nil {
			return nil, fmt.Errorf("user_properties: %w", err)
		}
	}
	b = append(b, `,"time":`...)
	if b, err = appendTime(b, e.Time); err != nil {
		return nil, fmt.Errorf("time: %w", err)
	}
	if c := e.Consent; c != nil {
		b = append(b, `,"consent":{`...)
		b = optMember(b, `"ad_user_data":`, c.AdUserData)
		b = optMember(b, `"ad_personalization":`, c.AdPersonalization)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendAds(b []byte, a *forwarder.AdsConversion) ([]byte, error) {
	b = append(b, `{"backend":`...)
	b = jsonenc.AppendString(b, a.Backend)
	b = append(b, `,"kind":`...)
	b = jsonenc.AppendString(b, a.Kind)
	b = append(b, `,"customer_id":`...)
	b = jsonenc.AppendString(b, a.CustomerID)
	b = optString(b, `,"login_customer_id":`, a.LoginCustomerID)
	b = append(b, `,"conversion_action":`...)
	b = jsonenc.AppendString(b, a.ConversionAction)
	b = append(b, `,"time":`...)
	var err error
	if b, err = appendTime(b, a.Time); err != nil {
		return nil, fmt.Errorf("time: %w", err)
	}
	if !a.CallStart.IsZero() {
		b = append(b, `,"call_start":`...)
		if b, err = appendTime(b, a.CallStart); err != nil {
			return nil, fmt.Errorf("call_start: %w", err)
		}
	}
	b = optString(b, `,"gclid":`, a.GCLID)
	b = optString(b, `,"hashed_phone":`, a.HashedPhone)
	b = optString(b, `,"caller_id":`, a.CallerID)
	if a.Value != nil {
		v := *a.Value
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("value %v is not a finite number", v)
		}
		b = jsonenc.AppendFloat(append(b, `,"value":`...), v)
	}
	b = optString(b, `,"currency":`, a.Currency)
	b = append(b, `,"transaction_id":`...)
	b = jsonenc.AppendString(b, a.TransactionID)
	b = optString(b, `,"ad_user_data":`, a.AdUserData)
	return append(b, '}'), nil
}

func appendUA(b []byte, h *forwarder.UAHit) ([]byte, error) {
	b = append(b, `{"tracking_id":`...)
	b = jsonenc.AppendString(b, h.TrackingID)
	b = append(b, `,"client_id":`...)
	b = jsonenc.AppendString(b, h.ClientID)
	b = append(b, `,"category":`...)
	b = jsonenc.AppendString(b, h.Category)
	b = append(b, `,"action":`...)
	b = jsonenc.AppendString(b, h.Action)
	b = optString(b, `,"label":`, h.Label)
	b = optInt(b, `,"value":`, h.Value)
	if len(h.Campaign) > 0 {
		b = appendStringMap(append(b, `,"campaign":`...), h.Campaign)
	}
	if h.NonInteraction {
		b = append(b, `,"non_interaction":true`...)
	}
	b = append(b, `,"time":`...)
	var err error
	if b, err = appendTime(b, h.Time); err != nil {
		return nil, fmt.Errorf("time: %w", err)
	}
	return append(b, '}'), nil
}

// AppendJob appends to dst the JSON encoding of j, the bytes of
// json.Marshal(j), and returns the extended buffer. It fails where
// json.Marshal fails (see AppendDelivery); dst is then returned as it was.
func AppendJob(dst []byte, j *Job) ([]byte, error) {
	if j == nil {
		return append(dst, "null"...), nil
	}
	b, err := appendDelivery(append(dst, `{"delivery":`...), &j.Delivery)
	if err != nil {
		return dst, fmt.Errorf("encode job %s: delivery: %w", j.Delivery.ID, err)
	}
	if b, err = AppendJobTail(b, j); err != nil {
		return dst, fmt.Errorf("encode job %s: %w", j.Delivery.ID, err)
	}
	return b, nil
}

// AppendJobTail appends to dst what follows the delivery in the JSON
// encoding of j, from the comma before "attempts" to the closing brace,
// as json.Marshal(j) writes it, and returns the extended buffer: a
// delivery already encoded, followed by this, makes the job's encoding.
// It fails where json.Marshal fails, on a time it cannot encode; dst is
// then returned as it was.
func AppendJobTail(dst []byte, j *Job) ([]byte, error) {
	b := append(dst, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(j.Attempts), 10)
	b = append(b, `,"due_at":`...)
	var err error
	if b, err = appendTime(b, j.DueAt); err != nil {
		return dst, fmt.Errorf("due_at: %w", err)
	}
	b = optString(b, `,"last_error":`, j.LastError)
	b = optString(b, `,"lease":`, j.Lease)
	if len(j.History) > 0 {
		b = append(b, `,"history":[`...)
		for i := range j.History {
			a := &j.History[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"at":`...)
			if b, err = appendTime(b, a.At); err != nil {
				return dst, fmt.Errorf("history[%d].at: %w", i, err)
			}
			b = append(b, `,"took":`...)
			b = strconv.AppendInt(b, int64(a.Took), 10)
			b = append(b, `,"result":`...)
			b = jsonenc.AppendString(b, a.Result)
			b = optString(b, `,"code":`, a.Code)
			b = optString(b, `,"error":`, a.Error)
			b = optString(b, `,"request_id":`, a.RequestID)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if v := j.Verdict; v != nil {
		b = append(b, `,"verdict":{"outcome":`...)
		b = jsonenc.AppendString(b, string(v.Outcome))
		b = optString(b, `,"reason":`, v.Reason)
		b = optString(b, `,"note":`, v.Note)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// appendTime appends t as time.Time.MarshalJSON writes it: a quoted RFC
// 3339 time with its fraction of a second, which has nothing to escape.
// It fails where MarshalJSON fails, on a year outside 0-9999 or a zone
// offset of a day or more.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	n := len(b)
	out, err := t.AppendText(append(b, '"'))
	if err != nil {
		return b[:n], err
	}
	return append(out, '"'), nil
}

// optString appends the member m (its comma, name and colon) with value
// s, unless s is empty (omitempty).
func optString(b []byte, m, s string) []byte {
	if s == "" {
		return b
	}
	return jsonenc.AppendString(append(b, m...), s)
}

// optInt appends the member m with value *p, unless p is nil (omitempty).
func optInt(b []byte, m string, p *int) []byte {
	if p == nil {
		return b
	}
	return strconv.AppendInt(append(b, m...), int64(*p), 10)
}

// member appends m, a member's name and colon, to the object b is
// writing, after a comma unless it is the object's first. Every object is
// opened by '{', and no value ends with one.
func member(b []byte, m string) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	return append(b, m...)
}

// optMember appends the member m with value s, after a comma unless it is
// the object's first, unless s is empty (omitempty).
func optMember(b []byte, m, s string) []byte {
	if s == "" {
		return b
	}
	return jsonenc.AppendString(member(b, m), s)
}

// appendStrings appends ss as a JSON array of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, s)
	}
	return append(b, ']')
}

// appendStringMap appends m as a JSON object, its keys sorted as
// encoding/json sorts them (by their bytes, before escaping).
func appendStringMap(b []byte, m map[string]string) []byte {
	b, _ = appendMap(b, m, func(b []byte, s string) ([]byte, error) { return jsonenc.AppendString(b, s), nil })
	return b
}

// appendAnyMap appends m as a JSON object, its keys sorted as
// encoding/json sorts them, each value as jsonenc.AppendValue writes it.
func appendAnyMap(b []byte, m map[string]any) ([]byte, error) {
	return appendMap(b, m, jsonenc.AppendValue)
}

// appendMap appends m as a JSON object, its keys sorted as encoding/json
// sorts them (by their bytes, before escaping), each value as value
// writes it.
func appendMap[V any](b []byte, m map[string]V, value func([]byte, V) ([]byte, error)) ([]byte, error) {
	var arr [16]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = value(b, m[k]); err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
	}
	return append(b, '}'), nil
}
