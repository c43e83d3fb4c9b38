package ga4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// The reference encodings: the request types encoding/json writes, which
// the direct encoder of encode.go must match byte for byte.

// refPayload is the body of a request with one event.
type refPayload struct {
	ClientID        string     `json:"client_id"`
	TimestampMicros int64      `json:"timestamp_micros,omitempty"`
	Events          []refEvent `json:"events"`
}

type refEvent struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params"`
}

// refBatchEvent is an event of a request with several.
type refBatchEvent struct {
	Name            string         `json:"name"`
	Params          map[string]any `json:"params"`
	TimestampMicros int64          `json:"timestamp_micros"`
}

// refFields are a request's fields but the time and the events.
type refFields struct {
	ClientID       string                     `json:"client_id"`
	UserProperties map[string]refUserProperty `json:"user_properties,omitempty"`
	Consent        *forwarder.GA4Consent      `json:"consent,omitempty"`
}

type refUserProperty struct {
	Value any `json:"value"`
}

func refParams(ev *forwarder.GA4Event) map[string]any {
	params := make(map[string]any, len(ev.Params)+1)
	maps.Copy(params, ev.Params)
	if _, ok := params[engagementParam]; !ok {
		params[engagementParam] = 1
	}
	return params
}

func refUserProperties(ev *forwarder.GA4Event) map[string]refUserProperty {
	if len(ev.UserProperties) == 0 {
		return nil
	}
	props := make(map[string]refUserProperty, len(ev.UserProperties))
	for name, v := range ev.UserProperties {
		props[name] = refUserProperty{Value: v}
	}
	return props
}

func refEncodeFields(ev *forwarder.GA4Event) ([]byte, error) {
	return json.Marshal(refFields{ClientID: ev.ClientID, UserProperties: refUserProperties(ev), Consent: ev.Consent})
}

func refEncodeEvent(ev *forwarder.GA4Event, ts int64) ([]byte, error) {
	return json.Marshal(refBatchEvent{Name: ev.Name, Params: refParams(ev), TimestampMicros: ts})
}

func refEncodePayload(ev *forwarder.GA4Event, ts int64) ([]byte, error) {
	return json.Marshal(struct {
		refPayload
		UserProperties map[string]refUserProperty `json:"user_properties,omitempty"`
		Consent        *forwarder.GA4Consent      `json:"consent,omitempty"`
	}{
		refPayload:     refPayload{ClientID: ev.ClientID, TimestampMicros: ts, Events: []refEvent{{Name: ev.Name, Params: refParams(ev)}}},
		UserProperties: refUserProperties(ev),
		Consent:        ev.Consent,
	})
}

// checkEncodings compares the three direct encodings of ev with the
// reference ones: equal bytes, or both failing.
func checkEncodings(t *testing.T, ev *forwarder.GA4Event, ts int64) {
	t.Helper()
	cases := []struct {
		name      string
		got, want func() ([]byte, error)
	}{
		{"fields", func() ([]byte, error) { return encodeFields(ev) }, func() ([]byte, error) { return refEncodeFields(ev) }},
		{"event", func() ([]byte, error) { return appendEvent(nil, ev, true, ts) }, func() ([]byte, error) { return refEncodeEvent(ev, ts) }},
		{"payload", func() ([]byte, error) { return appendPayload(nil, ev, ts) }, func() ([]byte, error) { return refEncodePayload(ev, ts) }},
	}
	for _, c := range cases {
		got, gerr := c.got()
		want, werr := c.want()
		switch {
		case (gerr != nil) != (werr != nil):
			t.Errorf("%s of %#v: error %v, encoding/json's %v", c.name, ev, gerr, werr)
		case gerr != nil && gerr.Error() != werr.Error():
			t.Errorf("%s of %#v: error %q, encoding/json's %q", c.name, ev, gerr, werr)
		case !bytes.Equal(got, want):
			t.Errorf("%s of %#v:\ngot:  %s\nwant: %s", c.name, ev, got, want)
		}
	}
}

// encodeValues are values of params and user properties: every kind the
// direct encoder writes itself, around its edges, and some it leaves to
// encoding/json.
var encodeValues = []any{
	"", "ANSWERED", "Sydney", "Website - Google Ads", "a\"b", `back\slash`, "<b>&amp;</b>", "tab\there", "nul\x00",
	"é", "日本", "\u2028\u2029", "\xff broken", "\x7f", "~", " ",
	0.0, math.Copysign(0, -1), 1.0, -1.0, 187.0, 120.5, 0.1, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e300, -2.5e-10, 123456789.123,
	math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1),
	0, 1, -1, 312, math.MaxInt64, math.MinInt64, int64(42), int64(-7),
	true, false, nil,
	json.Number("12.5"), float32(1.1), uint8(3), int32(-9), []any{"x", 1.0}, map[string]any{"k": "v"},
}

func TestEncodeMatchesEncodingJSON(t *testing.T) {
	for i, v := range encodeValues {
		for _, key := range []string{"value", "engagement_time_msec", "<k>", "é"} {
			ev := &forwarder.GA4Event{
				MeasurementID: testMID, ClientID: testClientID, Name: "phone_call",
				Params:         map[string]any{key: v, "outcome": "ANSWERED"},
				UserProperties: map[string]any{key: v},
			}
			checkEncodings(t, ev, int64(i)*1_000_003)
		}
	}
	consents := []*forwarder.GA4Consent{nil, {}, {AdUserData: "GRANTED"}, {AdPersonalization: "DENIED"}, {AdUserData: "GRANTED", AdPersonalization: "DENIED"}}
	for _, c := range consents {
		for _, ts := range []int64{0, 1, 1764110467000000} {
			for _, params := range []map[string]any{nil, {}, {"duration": 187.0}} {
				ev := &forwarder.GA4Event{ClientID: "1873452911.1764110422", Name: "qualified_call", Params: params, Consent: c}
				checkEncodings(t, ev, ts)
			}
		}
	}
	// Random events: many params and user properties, with texts that need
	// escapes and those that do not.
	r := rand.New(rand.NewPCG(3, 4))
	words := []string{"a", "b", "call", "city", "zz", "A", "_x", "engagement_time_msec", "<", "&", "é", "x y", "\"q\""}
	for range 2000 {
		ev := &forwarder.GA4Event{ClientID: words[r.IntN(len(words))] + "." + fmt.Sprint(r.Int64()), Name: words[r.IntN(len(words))], Params: map[string]any{}}
		for range r.IntN(12) {
			ev.Params[words[r.IntN(len(words))]+words[r.IntN(len(words))]] = encodeValues[r.IntN(len(encodeValues))]
		}
		if r.IntN(2) == 0 {
			ev.UserProperties = map[string]any{}
			for range r.IntN(4) {
				ev.UserProperties[words[r.IntN(len(words))]] = encodeValues[r.IntN(len(encodeValues))]
			}
		}
		checkEncodings(t, ev, r.Int64N(1<<53))
	}
}

func FuzzEncodeMatchesEncodingJSON(f *testing.F) {
	f.Add("1873452911.1764110422", "phone_call", "city", "Sydney", 187.0, int64(312), "GRANTED", int64(1764110467000000))
	f.Add("<", "&", "engagement_time_msec", "é\u2028", 1e21, int64(-1), "", int64(0))
	f.Fuzz(func(t *testing.T, clientID, name, key, text string, num float64, n int64, consent string, ts int64) {
		ev := &forwarder.GA4Event{
			ClientID: clientID, Name: name,
			Params:         map[string]any{key: text, key + "_n": num, key + "_i": n, "k": int(n)},
			UserProperties: map[string]any{key: num, text: text},
		}
		if consent != "" {
			ev.Consent = &forwarder.GA4Consent{AdUserData: consent}
		}
		checkEncodings(t, ev, ts)
	})
}

// BenchmarkEncodeEvent encodes the request of a GA4 event of the
// benchmark's rules (five params, no user properties) both ways in the
// same run: "direct" as the sender does, "reflect" with encoding/json as
// the sender did; each op is the request-level fields (also hashed for
// every claimed delivery's batch key), the event of a request with several
// and the body of a request with one.
func BenchmarkEncodeEvent(b *testing.B) {
	ev := &forwarder.GA4Event{
		MeasurementID: testMID, ClientID: "1873452911.1764110422", Name: "phone_call",
		Params: map[string]any{"city": "Sydney", "duration": 187.0, "number_name": "Website - Google Ads", "outcome": "ANSWERED", "traffic_type": "Campaign"},
		Time:   time.Date(2026, 11, 25, 23, 41, 7, 0, time.UTC),
	}
	ts := ev.Time.UnixMicro()
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err1 := encodeFields(ev)
			_, err2 := appendEvent(make([]byte, 0, 256), ev, true, ts)
			_, err3 := appendPayload(make([]byte, 0, 320), ev, ts)
			if err1 != nil || err2 != nil || err3 != nil {
				b.Fatal(err1, err2, err3)
			}
		}
	})
	b.Run("reflect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err1 := refEncodeFields(ev)
			_, err2 := refEncodeEvent(ev, ts)
			_, err3 := refEncodePayload(ev, ts)
			if err1 != nil || err2 != nil || err3 != nil {
				b.Fatal(err1, err2, err3)
			}
		}
	})
}

// refBatchKey is BatchKey as it was written with encoding/json.
func refBatchKey(d forwarder.Delivery) string {
	ev := d.GA4
	if ev == nil {
		return ""
	}
	h := sha256.New()
	h.Write([]byte(ev.MeasurementID))
	h.Write([]byte{0})
	if fields, err := refEncodeFields(ev); err == nil {
		h.Write(fields)
	} else {
		h.Write([]byte{1})
		h.Write([]byte(d.ID))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestBatchKeyMatchesEncodingJSON: the key hashes the same bytes as
// before, for fields that encode and fields that do not.
func TestBatchKeyMatchesEncodingJSON(t *testing.T) {
	for i, v := range encodeValues {
		d := testDelivery(func(d *forwarder.Delivery) {
			d.GA4.UserProperties = map[string]any{"p": v}
			d.GA4.Consent = &forwarder.GA4Consent{AdUserData: "GRANTED"}
		})
		if got, want := BatchKey(d), refBatchKey(d); got != want {
			t.Errorf("value %d (%#v): BatchKey %s, want %s", i, v, got, want)
		}
	}
	if got := BatchKey(forwarder.Delivery{}); got != "" {
		t.Errorf("BatchKey without an event = %q", got)
	}
}
