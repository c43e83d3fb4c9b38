package store_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/webhook"
	"github.com/callforward/callforward/mapping"
)

// oddStrings need every kind of escape encoding/json makes.
var oddStrings = []string{
	"", "plain", `quote " backslash \`, "<b>&amp;</b>", "tab\tnl\ncr\r\b\f", "\x00\x1f\x7f",
	"é 日本 🎉", "sep\u2028para\u2029", "bad \xff\xfe utf-8", "\xed\xa0\x80",
}

// encodeTimes are times whose RFC 3339 forms differ: UTC and offsets,
// with and without fractions of a second, the zero time, the ends of the
// years encoding/json accepts.
var encodeTimes = []time.Time{
	{},
	time.Date(2026, 12, 7, 18, 30, 0, 0, time.UTC),
	time.Date(2026, 12, 7, 18, 30, 0, 123456789, time.UTC),
	time.Date(2026, 12, 7, 18, 30, 1, 120000000, time.FixedZone("AEDT", 11*3600)),
	time.Date(2026, 1, 2, 3, 4, 5, 1000, time.FixedZone("", -(9*3600+30*60))),
	time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	time.Date(2026, 6, 1, 0, 0, 0, 0, time.Local),
}

// sameJSON fails t unless append encodes v as json.Marshal does, and
// leaves what the buffer held before in place.
func sameJSON[T any](t *testing.T, name string, v *T, appendFn func([]byte, *T) ([]byte, error)) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	prefix := []byte("kept")
	got, err := appendFn(slices.Clip(prefix), v)
	if wantErr != nil || err != nil {
		if (wantErr == nil) != (err == nil) {
			t.Fatalf("%s: encoding/json error %v, encoder error %v (encoded %s)", name, wantErr, err, got)
		}
		if string(got) != "kept" {
			t.Fatalf("%s: failed encoding left %q in the buffer, want it as it was", name, got)
		}
		return
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("%s: the buffer's contents %q were lost", name, got)
	}
	if got = got[len(prefix):]; !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got %s\nwant %s", name, got, want)
	}
}

func sameCall(t *testing.T, name string, c *forwarder.Call) {
	t.Helper()
	sameJSON(t, name, c, store.AppendCall)
}

func sameDelivery(t *testing.T, name string, d *forwarder.Delivery) {
	t.Helper()
	sameJSON(t, name, d, store.AppendDelivery)
	sameJSON(t, name+" (job)", &store.Job{Delivery: *d, DueAt: d.CallTime}, store.AppendJob)
}

func intp(i int) *int { return &i }

func floatp(f float64) *float64 { return &f }

// fullCall is a call with every field set.
func fullCall() *forwarder.Call {
	at := time.Date(2026, 12, 7, 18, 30, 0, 5, time.UTC)
	return &forwarder.Call{
		Action: "Webhook", Event: forwarder.EventComplete, AccountSid: "AC1", PropertySid: "PR1",
		PropertyName: "www.example.com", PropertyType: "Site", Sid: "CA1", StartDate: at,
		From: "+61412345678", FromCountry: "Australia", FromRegion: "NSW", FromCity: "Sydney",
		To: "+61291234567", ToType: "Dynamic", ToName: "Website", Duration: intp(187),
		Disposition: forwarder.DispositionAnswered, RecordingURI: "https://r.example/x.mp3?a=1&b=<2>", Endpoint: "+61298765432",
		Survey:      forwarder.Survey{Type: "rating", Value: intp(-3), Custom1: "a", Custom2: "b", Custom3: "c", UniqueCode: "u"},
		Prompts:     forwarder.Prompts{Postcodes: []string{"2000", "3000"}, Keys: []string{"1", "#"}},
		Attribution: forwarder.Attribution{Source: "google", Medium: "cpc", Campaign: "Brand & co", Content: "ad"},
		Session:     forwarder.Session{TrafficType: "Campaign", Keywords: "k", ConversionURI: "https://c", LandingURI: "https://l/?gclid=x"},
		GAClientID:  "1.2", GCLID: "Cj0", Extra: map[string]string{"z.b": "1", "a": "<", "\xff": "x", "é": ""},
		Dropped: []forwarder.DroppedField{{Field: "duration", Reason: `not a number: "x"`}, {Field: "gclid", Reason: "too long"}},
		History: &forwarder.CallerHistory{Key: forwarder.CallerKey("AC1", "+61412345678"), At: at, Previous: at.Add(-72 * time.Hour), Unavailable: true},
	}
}

// TestAppendCallAsEncodingJSON: every field of a call, each alone and all
// together, in every form encoding/json distinguishes (omitted, empty,
// zero, escaped), encodes to json.Marshal's bytes.
func TestAppendCallAsEncodingJSON(t *testing.T) {
	type tc struct {
		name string
		call *forwarder.Call
	}
	with := func(f func(*forwarder.Call)) *forwarder.Call { c := &forwarder.Call{}; f(c); return c }
	tests := []tc{
		{"nil", nil},
		{"zero", &forwarder.Call{}},
		{"full", fullCall()},
		{"duration zero", with(func(c *forwarder.Call) { c.Duration = intp(0) })},
		{"survey value zero only", with(func(c *forwarder.Call) { c.Survey.Value = intp(0) })},
		{"survey custom3 only", with(func(c *forwarder.Call) { c.Survey.Custom3 = "x" })},
		{"prompts empty slices", with(func(c *forwarder.Call) { c.Prompts = forwarder.Prompts{Postcodes: []string{}} })},
		{"prompts keys only", with(func(c *forwarder.Call) { c.Prompts.Keys = []string{"", "9"} })},
		{"prompts both empty", with(func(c *forwarder.Call) { c.Prompts = forwarder.Prompts{Postcodes: []string{}, Keys: []string{}} })},
		{"attribution content only", with(func(c *forwarder.Call) { c.Attribution.Content = "x" })},
		{"session landing only", with(func(c *forwarder.Call) { c.Session.LandingURI = "x" })},
		{"extra empty map", with(func(c *forwarder.Call) { c.Extra = map[string]string{} })},
		{"extra one", with(func(c *forwarder.Call) { c.Extra = map[string]string{"k": "v"} })},
		{"dropped empty", with(func(c *forwarder.Call) { c.Dropped = []forwarder.DroppedField{} })},
		{"dropped zero", with(func(c *forwarder.Call) { c.Dropped = []forwarder.DroppedField{{}} })},
		{"history zero", with(func(c *forwarder.Call) { c.History = &forwarder.CallerHistory{} })},
		{"history unavailable", with(func(c *forwarder.Call) { c.History = &forwarder.CallerHistory{Unavailable: true} })},
		{"history previous", with(func(c *forwarder.Call) {
			c.History = &forwarder.CallerHistory{Previous: time.Date(2020, 1, 1, 0, 0, 0, 1, time.UTC)}
		})},
	}
	for i, s := range oddStrings {
		tests = append(tests, tc{fmt.Sprintf("strings %d", i), with(func(c *forwarder.Call) {
			c.Action, c.Event, c.AccountSid, c.PropertySid, c.PropertyName, c.PropertyType = s, forwarder.Event(s), s, s, s, s
			c.Sid, c.From, c.FromCountry, c.FromRegion, c.FromCity, c.To, c.ToType, c.ToName = s, s, s, s, s, s, s, s
			c.Disposition, c.RecordingURI, c.Endpoint, c.GAClientID, c.GCLID = forwarder.Disposition(s), s, s, s, s
			c.Survey = forwarder.Survey{Type: s, Custom1: s, Custom2: s, Custom3: s, UniqueCode: s}
			c.Prompts = forwarder.Prompts{Postcodes: []string{s}, Keys: []string{s, s}}
			c.Attribution = forwarder.Attribution{Source: s, Medium: s, Campaign: s, Content: s}
			c.Session = forwarder.Session{TrafficType: s, Keywords: s, ConversionURI: s, LandingURI: s}
			c.Extra = map[string]string{s: s, s + "x": s}
			c.Dropped = []forwarder.DroppedField{{Field: s, Reason: s}}
			c.History = &forwarder.CallerHistory{Key: s}
		})})
	}
	for i, at := range encodeTimes {
		tests = append(tests, tc{fmt.Sprintf("times %d", i), with(func(c *forwarder.Call) {
			c.StartDate = at
			c.History = &forwarder.CallerHistory{At: at, Previous: at}
		})})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameCall(t, tt.name, tt.call) })
	}
}

// fullDelivery is a delivery with every field set: all three payloads.
func fullDelivery() *forwarder.Delivery {
	at := time.Date(2026, 12, 7, 18, 30, 0, 5, time.FixedZone("", 3600))
	return &forwarder.Delivery{
		ID: "CA1/r/d", CallSid: "CA1", Rule: "r", Destination: "d", Type: forwarder.DestinationGA4, CallTime: at,
		GA4: &forwarder.GA4Event{
			MeasurementID: "G-1", ClientID: "1.2", Name: "phone_call",
			Params:         map[string]any{"duration": 187, "value": 50.5, "currency": "AUD", "big": int64(1) << 60, "ok": true, "none": nil},
			UserProperties: map[string]any{"tier": "gold", "n": 1e21},
			Time:           at,
			Consent:        &forwarder.GA4Consent{AdUserData: "GRANTED", AdPersonalization: "DENIED"},
		},
		Ads: &forwarder.AdsConversion{
			Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsCall, CustomerID: "1234567890", LoginCustomerID: "9",
			ConversionAction: "42", Time: at, CallStart: at.Add(-time.Minute), GCLID: "g", HashedPhone: "ab",
			CallerID: "+61412345678", Value: floatp(1e-7), Currency: "AUD", TransactionID: "tx", AdUserData: "GRANTED",
		},
		UA: &forwarder.UAHit{
			TrackingID: "UA-1-1", ClientID: "1.2", Category: "c", Action: "a", Label: "l", Value: intp(0),
			Campaign: map[string]string{"cn": "x", "cs": "<y>"}, NonInteraction: true, Time: at,
		},
		Trace: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	}
}

// TestAppendDeliveryAsEncodingJSON: every field of a delivery and of its
// payloads, and the job around it, encodes to json.Marshal's bytes.
func TestAppendDeliveryAsEncodingJSON(t *testing.T) {
	type tc struct {
		name string
		d    *forwarder.Delivery
	}
	with := func(f func(*forwarder.Delivery)) *forwarder.Delivery { d := fullDelivery(); f(d); return d }
	type named string
	tests := []tc{
		{"zero", &forwarder.Delivery{}},
		{"full", fullDelivery()},
		{"ga4 only", with(func(d *forwarder.Delivery) { d.Ads, d.UA, d.Trace = nil, nil, "" })},
		{"ga4 bare", &forwarder.Delivery{GA4: &forwarder.GA4Event{}}},
		{"ga4 empty maps", &forwarder.Delivery{GA4: &forwarder.GA4Event{Params: map[string]any{}, UserProperties: map[string]any{}}}},
		{"ga4 consent empty", &forwarder.Delivery{GA4: &forwarder.GA4Event{Consent: &forwarder.GA4Consent{}}}},
		{"ga4 consent second only", &forwarder.Delivery{GA4: &forwarder.GA4Event{Consent: &forwarder.GA4Consent{AdPersonalization: "GRANTED"}}}},
		{"ga4 other values", &forwarder.Delivery{GA4: &forwarder.GA4Event{Params: map[string]any{
			"f32": float32(0.1), "u": uint8(7), "named": named("<x>"), "slice": []any{1, "a"}, "map": map[string]any{"b": 1, "a": 2},
			"raw": json.RawMessage(` {"a" : "<"} `), "neg0": math.Copysign(0, -1), "small": 1e-7, "i": -5, "dur": time.Second,
			"disposition": forwarder.DispositionAnswered, "t": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		}}}},
		{"ads bare", &forwarder.Delivery{Ads: &forwarder.AdsConversion{}}},
		{"ads value zero", &forwarder.Delivery{Ads: &forwarder.AdsConversion{Value: floatp(0)}}},
		{"ads value large", &forwarder.Delivery{Ads: &forwarder.AdsConversion{Value: floatp(123456789.125)}}},
		{"ua bare", &forwarder.Delivery{UA: &forwarder.UAHit{}}},
		{"ua empty campaign", &forwarder.Delivery{UA: &forwarder.UAHit{Campaign: map[string]string{}}}},
	}
	for i, s := range oddStrings {
		tests = append(tests, tc{fmt.Sprintf("strings %d", i), with(func(d *forwarder.Delivery) {
			d.ID, d.CallSid, d.Rule, d.Destination, d.Type, d.Trace = s, s, s, s, s, s
			g := d.GA4
			g.MeasurementID, g.ClientID, g.Name = s, s, s
			g.Params, g.UserProperties = map[string]any{s: s, s + "1": 1.5}, map[string]any{s: s}
			g.Consent = &forwarder.GA4Consent{AdUserData: s, AdPersonalization: s}
			a := d.Ads
			a.Backend, a.Kind, a.CustomerID, a.LoginCustomerID, a.ConversionAction = s, s, s, s, s
			a.GCLID, a.HashedPhone, a.CallerID, a.Currency, a.TransactionID, a.AdUserData = s, s, s, s, s, s
			u := d.UA
			u.TrackingID, u.ClientID, u.Category, u.Action, u.Label, u.Campaign = s, s, s, s, s, map[string]string{s: s}
		})})
	}
	for i, at := range encodeTimes {
		tests = append(tests, tc{fmt.Sprintf("times %d", i), with(func(d *forwarder.Delivery) {
			d.CallTime, d.GA4.Time, d.Ads.Time, d.Ads.CallStart, d.UA.Time = at, at, at, at, at
		})})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameDelivery(t, tt.name, tt.d) })
	}
}

// TestAppendJobAsEncodingJSON: every field of a job (its envelope,
// history and verdict) encodes to json.Marshal's bytes.
func TestAppendJobAsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 18, 30, 0, 999, time.UTC)
	tests := []struct {
		name string
		job  *store.Job
	}{
		{"nil", nil},
		{"zero", &store.Job{}},
		{"pending", &store.Job{Delivery: *fullDelivery(), DueAt: at}},
		{"claimed", &store.Job{Delivery: *fullDelivery(), Attempts: -1, DueAt: at, Lease: "l<1>", LastError: "HTTP 503: \"busy\""}},
		{"history empty", &store.Job{History: []store.Attempt{}}},
		{"history", &store.Job{Attempts: 3, History: []store.Attempt{
			{},
			{At: at, Took: 1500 * time.Millisecond, Result: store.AttemptRetry, Code: "HTTP_503", Error: "unavailable & <busy>"},
			{At: at.In(time.FixedZone("", -3600)), Took: -1, Result: store.AttemptDelivered, RequestID: "req-1"},
		}}},
		{"verdict zero", &store.Job{Verdict: &forwarder.Verdict{}}},
		{"verdict", &store.Job{Verdict: &forwarder.Verdict{Outcome: forwarder.OutcomeRejected, Reason: "EXPIRED_CLICK", Note: "n\u2028"}}},
		{"verdict note only", &store.Job{Verdict: &forwarder.Verdict{Note: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameJSON(t, tt.name, tt.job, store.AppendJob) })
	}
}

// TestAppendRefusesWhatEncodingJSONRefuses: times RFC 3339 cannot hold
// and values that are not finite numbers fail both, and the encoder
// leaves its buffer as it was.
func TestAppendRefusesWhatEncodingJSONRefuses(t *testing.T) {
	bad := []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600)),
	}
	for i, at := range bad {
		name := fmt.Sprintf("time %d", i)
		c := fullCall()
		c.StartDate = at
		sameCall(t, name+" start_date", c)
		c = fullCall()
		c.History.Previous = at
		sameCall(t, name+" previous", c)
		c.History = &forwarder.CallerHistory{At: at}
		sameCall(t, name+" at", c)
		for _, set := range []func(*forwarder.Delivery){
			func(d *forwarder.Delivery) { d.CallTime = at },
			func(d *forwarder.Delivery) { d.GA4.Time = at },
			func(d *forwarder.Delivery) { d.Ads.Time = at },
			func(d *forwarder.Delivery) { d.Ads.CallStart = at },
			func(d *forwarder.Delivery) { d.UA.Time = at },
		} {
			d := fullDelivery()
			set(d)
			sameDelivery(t, name, d)
		}
		sameJSON(t, name+" due_at", &store.Job{DueAt: at}, store.AppendJob)
		sameJSON(t, name+" attempt", &store.Job{History: []store.Attempt{{At: at}}}, store.AppendJob)
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		d := fullDelivery()
		d.Ads.Value = &v
		sameDelivery(t, fmt.Sprintf("ads value %v", v), d)
		d = fullDelivery()
		d.GA4.Params["x"] = v
		sameDelivery(t, fmt.Sprintf("param %v", v), d)
		d = fullDelivery()
		d.GA4.UserProperties["x"] = v
		sameDelivery(t, fmt.Sprintf("user property %v", v), d)
	}
	d := fullDelivery()
	d.GA4.Params["ch"] = make(chan int)
	sameDelivery(t, "param chan", d)
}

// encodedTypes are the types the encoders write, with the fields they
// know: the test below fails when one gains, loses or renames a field, so
// that AppendCall, AppendDelivery, AppendJob and the tests learn it.
var encodedTypes = map[reflect.Type][]string{
	reflect.TypeFor[forwarder.Call](): {
		`Action json:"action"`, `Event json:"event"`, `AccountSid json:"account_sid"`, `PropertySid json:"property_sid"`,
		`PropertyName json:"property_name,omitempty"`, `PropertyType json:"property_type,omitempty"`, `Sid json:"sid"`,
		`StartDate json:"start_date"`, `From json:"from,omitempty"`, `FromCountry json:"from_country,omitempty"`,
		`FromRegion json:"from_region,omitempty"`, `FromCity json:"from_city,omitempty"`, `To json:"to,omitempty"`,
		`ToType json:"to_type,omitempty"`, `ToName json:"to_name,omitempty"`, `Duration json:"duration,omitempty"`,
		`Disposition json:"disposition,omitempty"`, `RecordingURI json:"recording_uri,omitempty"`,
		`Endpoint json:"endpoint,omitempty"`, `Survey json:"survey,omitzero"`, `Prompts json:"prompts,omitzero"`,
		`Attribution json:"attribution,omitzero"`, `Session json:"session,omitzero"`, `GAClientID json:"ga_client_id,omitempty"`,
		`GCLID json:"gclid,omitempty"`, `Extra json:"extra,omitempty"`, `Dropped json:"dropped,omitempty"`,
		`History json:"caller_history,omitempty"`,
	},
	reflect.TypeFor[forwarder.Survey](): {
		`Type json:"type,omitempty"`, `Value json:"value,omitempty"`, `Custom1 json:"custom1,omitempty"`,
		`Custom2 json:"custom2,omitempty"`, `Custom3 json:"custom3,omitempty"`, `UniqueCode json:"unique_code,omitempty"`,
	},
	reflect.TypeFor[forwarder.Prompts](): {`Postcodes json:"postcodes,omitempty"`, `Keys json:"keys,omitempty"`},
	reflect.TypeFor[forwarder.Attribution](): {
		`Source json:"source,omitempty"`, `Medium json:"medium,omitempty"`, `Campaign json:"campaign,omitempty"`,
		`Content json:"content,omitempty"`,
	},
	reflect.TypeFor[forwarder.Session](): {
		`TrafficType json:"traffic_type,omitempty"`, `Keywords json:"keywords,omitempty"`,
		`ConversionURI json:"conversion_uri,omitempty"`, `LandingURI json:"landing_uri,omitempty"`,
	},
	reflect.TypeFor[forwarder.DroppedField](): {`Field json:"field"`, `Reason json:"reason"`},
	reflect.TypeFor[forwarder.CallerHistory](): {
		`Key json:"key,omitempty"`, `At json:"at"`, `Previous json:"previous,omitzero"`, `Unavailable json:"unavailable,omitempty"`,
	},
	reflect.TypeFor[forwarder.Delivery](): {
		`ID json:"id"`, `CallSid json:"call_sid"`, `Rule json:"rule"`, `Destination json:"destination"`, `Type json:"type"`,
		`CallTime json:"call_time"`, `GA4 json:"ga4,omitempty"`, `Ads json:"ads,omitempty"`, `UA json:"ua,omitempty"`,
		`Trace json:"trace,omitempty"`,
	},
	reflect.TypeFor[forwarder.GA4Event](): {
		`MeasurementID json:"measurement_id"`, `ClientID json:"client_id"`, `Name json:"name"`,
		`Params json:"params,omitempty"`, `UserProperties json:"user_properties,omitempty"`, `Time json:"time"`,
		`Consent json:"consent,omitempty"`,
	},
	reflect.TypeFor[forwarder.GA4Consent](): {
		`AdUserData json:"ad_user_data,omitempty"`, `AdPersonalization json:"ad_personalization,omitempty"`,
	},
	reflect.TypeFor[forwarder.AdsConversion](): {
		`Backend json:"backend"`, `Kind json:"kind"`, `CustomerID json:"customer_id"`,
		`LoginCustomerID json:"login_customer_id,omitempty"`, `ConversionAction json:"conversion_action"`, `Time json:"time"`,
		`CallStart json:"call_start,omitzero"`, `GCLID json:"gclid,omitempty"`, `HashedPhone json:"hashed_phone,omitempty"`,
		`CallerID json:"caller_id,omitempty"`, `Value json:"value,omitempty"`, `Currency json:"currency,omitempty"`,
		`TransactionID json:"transaction_id"`, `AdUserData json:"ad_user_data,omitempty"`,
	},
	reflect.TypeFor[forwarder.UAHit](): {
		`TrackingID json:"tracking_id"`, `ClientID json:"client_id"`, `Category json:"category"`, `Action json:"action"`,
		`Label json:"label,omitempty"`, `Value json:"value,omitempty"`, `Campaign json:"campaign,omitempty"`,
		`NonInteraction json:"non_interaction,omitempty"`, `Time json:"time"`,
	},
	reflect.TypeFor[store.Job](): {
		`Delivery json:"delivery"`, `Attempts json:"attempts"`, `DueAt json:"due_at"`, `LastError json:"last_error,omitempty"`,
		`Lease json:"lease,omitempty"`, `History json:"history,omitempty"`, `Verdict json:"verdict,omitempty"`,
	},
	reflect.TypeFor[store.Attempt](): {
		`At json:"at"`, `Took json:"took"`, `Result json:"result"`, `Code json:"code,omitempty"`, `Error json:"error,omitempty"`,
		`RequestID json:"request_id,omitempty"`,
	},
	reflect.TypeFor[forwarder.Verdict](): {`Outcome json:"outcome"`, `Reason json:"reason,omitempty"`, `Note json:"note,omitempty"`},
}

// TestEncodersCoverTheirTypes fails when a type the encoders write gains,
// loses or renames a field or changes its JSON tag, or gains a JSON method
// of its own, or when a type they write is left out of encodedTypes.
func TestEncodersCoverTheirTypes(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeFor[time.Time]() || seen[typ] {
			return
		}
		seen[typ] = true
		known, ok := encodedTypes[typ]
		if !ok {
			t.Errorf("the encoders write %v, which encodedTypes does not list: teach it to them and their tests", typ)
			return
		}
		for _, m := range []string{"MarshalJSON", "MarshalText", "AppendText"} {
			if _, ok := typ.MethodByName(m); ok {
				t.Errorf("%v has a %s method: the encoders must call it or write its bytes", typ, m)
			}
			if _, ok := reflect.PointerTo(typ).MethodByName(m); ok {
				t.Errorf("*%v has a %s method: the encoders must call it or write its bytes", typ, m)
			}
		}
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name+" "+string(f.Tag))
			walk(f.Type)
		}
		if !slices.Equal(got, known) {
			t.Errorf("%v has fields\n%q\nthe encoders know\n%q\nteach the new ones to AppendCall, AppendDelivery or AppendJob and their tests", typ, got, known)
		}
	}
	walk(reflect.TypeFor[forwarder.Call]())
	walk(reflect.TypeFor[store.Job]())
	for typ := range encodedTypes {
		if !seen[typ] {
			t.Errorf("encodedTypes lists %v, which the encoders no longer write", typ)
		}
	}
}

// fill sets every field reachable from v, recursively, to a non-zero
// value derived from n: a field the encoders do not write then shows as
// a difference from json.Marshal.
func fill(v reflect.Value, n int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d<&>", n))
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(n) + 1)
	case reflect.Float64:
		v.SetFloat(float64(n) + 0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n+1)
		fill(v.Index(1), n+2)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 3 {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, n+10*i)
			e := reflect.New(v.Type().Elem()).Elem()
			if e.Kind() == reflect.Interface {
				e.Set(reflect.ValueOf(fmt.Sprintf("v%d", i)))
			} else {
				fill(e, n+10*i)
			}
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 1, 0, 0, n, n, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n*100+i)
		}
	}
}

// TestEncodersWriteEveryField: a call and a job with every field set,
// found by reflection rather than listed, encode to json.Marshal's bytes.
func TestEncodersWriteEveryField(t *testing.T) {
	var c forwarder.Call
	fill(reflect.ValueOf(&c).Elem(), 1)
	sameCall(t, "call", &c)
	var j store.Job
	fill(reflect.ValueOf(&j).Elem(), 2)
	sameJSON(t, "job", &j, store.AppendJob)
	if j.Delivery.GA4 == nil || j.Delivery.Ads == nil || j.Delivery.UA == nil || len(j.History) == 0 || c.History == nil {
		t.Fatal("fill left fields unset")
	}
}

// TestAppendOnSampleWebhooks: the sample webhooks (examples/webhooks),
// with and without a caller history, and every job the project's rule
// files plan for them encode to json.Marshal's bytes.
func TestAppendOnSampleWebhooks(t *testing.T) {
	files, err := filepath.Glob("../../examples/webhooks/*")
	if err != nil {
		t.Fatal(err)
	}
	var rules []*mapping.Rules
	for _, path := range []string{
		"../../bench/rules10.yaml", "../../bench/rules-ads.yaml", "../../bench/rules1.yaml",
		"../../mapping/testdata/ua.yaml", "../cli/testdata/ga4-rules.yaml",
	} {
		r, err := mapping.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		rules = append(rules, r)
	}
	calls, jobs := 0, 0
	due := time.Date(2026, 12, 7, 18, 30, 0, 123, time.UTC)
	for _, path := range files {
		if strings.HasSuffix(path, ".md") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.TrimSpace(data)
		contentType := "application/x-www-form-urlencoded"
		if strings.HasSuffix(path, ".json") {
			contentType = "application/json"
		}
		params, err := webhook.Params("POST", contentType, "", data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		call, err := webhook.Decode(params)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		name := filepath.Base(path)
		for _, history := range []*forwarder.CallerHistory{
			nil,
			{Key: forwarder.CallerKey(call.AccountSid, call.From), At: call.StartDate, Previous: call.StartDate.Add(-50 * time.Hour)},
			{At: call.StartDate, Unavailable: true},
		} {
			call.History = history
			sameCall(t, name, call)
			calls++
			for _, r := range rules {
				for _, d := range r.Evaluate(call) {
					sameJSON(t, name+" "+d.ID, &store.Job{Delivery: d, DueAt: due}, store.AppendJob)
					jobs++
				}
			}
		}
	}
	if calls < 15 || jobs < 30 {
		t.Fatalf("encoded %d calls and %d jobs of the samples; the samples or rules went missing", calls, jobs)
	}
	t.Logf("%d calls, %d jobs", calls, jobs)
}

// FuzzAppendMatchesEncodingJSON builds a call and a job with all their
// fields from fuzzed values and holds the encoders to json.Marshal's
// bytes.
func FuzzAppendMatchesEncodingJSON(f *testing.F) {
	f.Add("CA1", "+61412345678", "<&>", "key", "\u2028", "\xff", int64(1765132200), int64(5), int64(36000), 50.5, 187, uint16(0xffff))
	f.Add("", "", "", "", "", "", int64(0), int64(0), int64(0), 0.0, 0, uint16(0))
	f.Add("a\"b", "\\", "\x00", "日本", "é", "🎉", int64(-62135596800), int64(999999999), int64(-34200), 1e21, -1, uint16(0x5555))
	f.Add("x", "y", "z", "k", "v", "w", int64(253402300800), int64(1), int64(86400), 1e-7, 1<<40, uint16(0xaaaa))
	f.Fuzz(func(t *testing.T, s1, s2, s3, k1, k2, s4 string, sec, nsec, offset int64, v float64, n int, shape uint16) {
		at := time.Unix(sec, nsec).In(time.FixedZone("fuzz", int(offset%(48*3600))))
		bit := func(i int) bool { return shape&(1<<i) != 0 }
		pick := func(i int, s string) string {
			if bit(i) {
				return s
			}
			return ""
		}
		c := &forwarder.Call{
			Action: s1, Event: forwarder.Event(s2), AccountSid: s3, PropertySid: s4, PropertyName: pick(0, s1),
			PropertyType: pick(1, s2), Sid: s1 + s2, StartDate: at, From: pick(2, s3), FromCountry: pick(3, s4),
			FromRegion: pick(4, s1), FromCity: pick(5, s2), To: pick(6, s3), ToType: pick(7, s4), ToName: pick(8, k1),
			Disposition: forwarder.Disposition(pick(9, k2)), RecordingURI: pick(10, s3), Endpoint: pick(11, s4),
			Survey:      forwarder.Survey{Type: pick(12, s1), Custom1: pick(1, s2), Custom2: pick(2, s3), Custom3: pick(3, s4), UniqueCode: pick(4, k1)},
			Attribution: forwarder.Attribution{Source: pick(5, s1), Medium: pick(6, s2), Campaign: pick(7, s3), Content: pick(8, s4)},
			Session:     forwarder.Session{TrafficType: pick(9, s1), Keywords: pick(10, s2), ConversionURI: pick(11, s3), LandingURI: pick(12, s4)},
			GAClientID:  pick(13, s1), GCLID: pick(14, s2),
		}
		if bit(0) {
			c.Duration, c.Survey.Value = &n, &n
		}
		if bit(1) {
			c.Prompts = forwarder.Prompts{Postcodes: []string{s1, k1}}
		}
		if bit(2) {
			c.Prompts.Keys = []string{}
			c.Extra = map[string]string{k1: s1, k2: s2, s3: s4}
		}
		if bit(3) {
			c.Dropped = []forwarder.DroppedField{{Field: k1, Reason: s3}, {}}
		}
		if bit(4) {
			c.History = &forwarder.CallerHistory{Key: pick(5, k1), At: at, Previous: at.Add(-time.Duration(n) * time.Second), Unavailable: bit(6)}
		}
		sameCall(t, "call", c)

		d := forwarder.Delivery{
			ID: s1, CallSid: s2, Rule: s3, Destination: s4, Type: k1, CallTime: at, Trace: pick(15, k2),
		}
		if bit(5) {
			d.GA4 = &forwarder.GA4Event{
				MeasurementID: s1, ClientID: s2, Name: s3, Time: at,
				Params:         map[string]any{k1: s4, k2: v, s1: n, "engagement_time_msec": bit(6)},
				UserProperties: map[string]any{k2: s2},
			}
			if bit(7) {
				d.GA4.Consent = &forwarder.GA4Consent{AdUserData: pick(8, s3), AdPersonalization: pick(9, s4)}
			}
		}
		if bit(10) {
			d.Ads = &forwarder.AdsConversion{
				Backend: s1, Kind: s2, CustomerID: s3, LoginCustomerID: pick(11, s4), ConversionAction: k1, Time: at,
				CallStart: at.Add(time.Duration(nsec)), GCLID: pick(12, k2), HashedPhone: pick(13, s1), CallerID: pick(14, s2),
				Currency: pick(15, s3), TransactionID: s4, AdUserData: pick(0, k1),
			}
			if bit(1) {
				d.Ads.Value = &v
			}
		}
		if bit(11) {
			d.UA = &forwarder.UAHit{
				TrackingID: s1, ClientID: s2, Category: s3, Action: s4, Label: pick(12, k1), NonInteraction: bit(13), Time: at,
			}
			if bit(14) {
				d.UA.Value = &n
				d.UA.Campaign = map[string]string{k1: s1, k2: s2}
			}
		}
		j := &store.Job{Delivery: d, Attempts: n, DueAt: at, LastError: pick(2, s4), Lease: pick(3, k2)}
		if bit(8) {
			j.History = []store.Attempt{{At: at, Took: time.Duration(nsec), Result: s1, Code: pick(4, s2), Error: pick(5, s3), RequestID: pick(6, s4)}}
		}
		if bit(9) {
			j.Verdict = &forwarder.Verdict{Outcome: forwarder.Outcome(s1), Reason: pick(10, k1), Note: pick(11, k2)}
		}
		sameJSON(t, "job", j, store.AppendJob)
	})
}
