package googleads_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/googleads"
)

// clientEncoding is the reference: the bytes of the generated client's
// type, encoded as the client encodes it (without its final newline).
func clientEncoding(convs []*forwarder.AdsConversion, validateOnly bool) ([]byte, error) {
	return json.Marshal(googleads.BuildIngestRequest(convs, validateOnly))
}

// sameEncoding fails t unless AppendIngestRequest writes for convs the
// client's bytes, or both refuse them; it also checks that the encoder
// appends to what its buffer holds.
func sameEncoding(t *testing.T, convs []*forwarder.AdsConversion, validateOnly bool) {
	t.Helper()
	want, wantErr := clientEncoding(convs, validateOnly)
	got, err := googleads.AppendIngestRequest(nil, convs, validateOnly)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("error %v, the client's %v", err, wantErr)
	}
	if err != nil {
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding differs from the client's\ngot:  %s\nwant: %s\nfirst difference at byte %d", got, want, firstDiff(got, want))
	}
	prefix := []byte(`{"x":`)
	got, err = googleads.AppendIngestRequest(slices.Clip(prefix), convs, validateOnly)
	if err != nil || !bytes.Equal(got, append(prefix, want...)) {
		t.Fatalf("appended to %q: %q, %v; want the prefix then the request", prefix, got, err)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// oddStrings are texts encoding/json escapes, or writes as they are but a
// careless encoder would not.
var oddStrings = []string{
	``,
	`plain-ID_123`,
	`"quoted" and \back\slash\`,
	"\x00\x01\x02\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x1b\x1f",
	"\x7f DEL and \u0080 \u009f C1",
	`<script>alert("x")</script> & &amp; > <`,
	"line\u2028separator\u2029paragraph",
	"Ωmega é 日本語 🎉 \U0010FFFF",
	"\ufffd literal replacement",
	"bad \xff\xfe bytes",
	"cut \xe2\x80",
	"surrogate \xed\xa0\x80 half",
	"overlong \xc0\xaf slash",
	"/forward/slash and 'single'",
	strings.Repeat("long-", 400),
}

// baseClick is a click conversion with every field a click has.
func baseClick() *forwarder.AdsConversion {
	return click(forwarder.AdsBackendDataManager, "Cj0KCQbase").Ads
}

// baseCall is a call conversion.
func baseCall() *forwarder.AdsConversion {
	return call(forwarder.AdsBackendDataManager, "+61412345678").Ads
}

// with returns a copy of a changed by f.
func with(a *forwarder.AdsConversion, f func(*forwarder.AdsConversion)) *forwarder.AdsConversion {
	c := *a
	if a.Value != nil {
		v := *a.Value
		c.Value = &v
	}
	f(&c)
	return &c
}

func value(v float64) func(*forwarder.AdsConversion) {
	return func(a *forwarder.AdsConversion) { a.Value = &v }
}

func TestAppendIngestRequestMatchesClient(t *testing.T) {
	type tc struct {
		name         string
		convs        []*forwarder.AdsConversion
		validateOnly bool
	}
	tests := []tc{
		{"no conversions", nil, false},
		{"no conversions, validate only", nil, true},
		{"click with every field", []*forwarder.AdsConversion{baseClick()}, false},
		{"validate only", []*forwarder.AdsConversion{baseClick()}, true},
		{"gclid only", []*forwarder.AdsConversion{with(baseClick(), func(a *forwarder.AdsConversion) {
			a.HashedPhone, a.Value, a.Currency, a.AdUserData, a.LoginCustomerID, a.TransactionID = "", nil, "", "", "", ""
		})}, false},
		{"enhanced conversion, hashed phone only", []*forwarder.AdsConversion{with(baseClick(), func(a *forwarder.AdsConversion) { a.GCLID = "" })}, false},
		{"call, caller hashed", []*forwarder.AdsConversion{baseCall()}, false},
		{"call with a hashed phone given", []*forwarder.AdsConversion{with(baseCall(), func(a *forwarder.AdsConversion) { a.HashedPhone = testHash })}, false},
		{"call without caller id", []*forwarder.AdsConversion{with(baseCall(), func(a *forwarder.AdsConversion) { a.CallerID = "" })}, false},
		{"call with a gclid", []*forwarder.AdsConversion{with(baseCall(), func(a *forwarder.AdsConversion) { a.GCLID = "Cj0KCQcall" })}, false},
		{"consent denied", []*forwarder.AdsConversion{with(baseClick(), func(a *forwarder.AdsConversion) { a.AdUserData = "DENIED" })}, false},
		{"value without currency", []*forwarder.AdsConversion{with(baseClick(), func(a *forwarder.AdsConversion) { a.Currency = "" })}, false},
		{"currency without value", []*forwarder.AdsConversion{with(baseClick(), func(a *forwarder.AdsConversion) { a.Value = nil })}, false},
		{"no login customer", []*forwarder.AdsConversion{with(baseClick(), func(a *forwarder.AdsConversion) { a.LoginCustomerID = "" })}, false},
		{"empty ids", []*forwarder.AdsConversion{with(baseClick(), func(a *forwarder.AdsConversion) {
			a.CustomerID, a.LoginCustomerID, a.ConversionAction = "", "", ""
		})}, false},
		{"two actions", []*forwarder.AdsConversion{
			baseClick(),
			with(baseClick(), func(a *forwarder.AdsConversion) { a.ConversionAction, a.GCLID = "123", "Cj0KCQother" }),
			with(baseClick(), func(a *forwarder.AdsConversion) { a.GCLID = "Cj0KCQthird" }),
		}, false},
		{"three actions, one empty, validate only", []*forwarder.AdsConversion{
			with(baseClick(), func(a *forwarder.AdsConversion) { a.ConversionAction = "" }),
			baseClick(),
			with(baseCall(), func(a *forwarder.AdsConversion) { a.ConversionAction = "55" }),
			with(baseClick(), func(a *forwarder.AdsConversion) { a.ConversionAction = "" }),
		}, true},
		{"destinations from their first conversion", []*forwarder.AdsConversion{
			with(baseClick(), func(a *forwarder.AdsConversion) { a.LoginCustomerID = "" }),
			with(baseClick(), func(a *forwarder.AdsConversion) { a.ConversionAction, a.CustomerID = "7", "9999999999" }),
			baseClick(),
		}, false},
		{"click and call mixed", []*forwarder.AdsConversion{baseCall(), baseClick(), baseCall()}, false},
		{"times: zone, fraction, zero, far", []*forwarder.AdsConversion{
			with(baseClick(), func(a *forwarder.AdsConversion) {
				a.Time = time.Date(2026, 11, 3, 19, 4, 5, 999_999_999, time.FixedZone("AEDT", 11*3600))
			}),
			with(baseCall(), func(a *forwarder.AdsConversion) { a.Time, a.CallStart = time.Time{}, time.Time{} }),
			with(baseCall(), func(a *forwarder.AdsConversion) {
				a.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
				a.CallStart = time.Date(-1, 12, 31, 23, 59, 59, 1, time.FixedZone("odd", -(3*3600+1800)))
			}),
			with(baseClick(), func(a *forwarder.AdsConversion) { a.Time = time.Unix(0, -1) }),
		}, false},
		{"not a number", []*forwarder.AdsConversion{with(baseClick(), value(math.NaN()))}, false},
		{"infinite", []*forwarder.AdsConversion{baseClick(), with(baseClick(), value(math.Inf(-1)))}, false},
	}
	for _, v := range []float64{0, math.Copysign(0, -1), 1, 0.1, 0.3 - 0.2, 50, 99.99, -12.5, 1e20, 1e21, 123456789012345678, 1<<53 + 1,
		1e-6, 9.99e-7, 1e-7, 5e-324, 1.5e-10, math.MaxFloat64, -1e21, 1e100, 2.5e-5} {
		tests = append(tests, tc{fmt.Sprintf("value %v", v), []*forwarder.AdsConversion{with(baseClick(), value(v))}, false})
	}
	for i, s := range oddStrings {
		tests = append(tests,
			tc{fmt.Sprintf("odd string %d in ids", i), []*forwarder.AdsConversion{
				with(baseClick(), func(a *forwarder.AdsConversion) {
					a.TransactionID, a.GCLID, a.HashedPhone, a.Currency, a.AdUserData = s, s, s, s, s
				}),
				with(baseCall(), func(a *forwarder.AdsConversion) {
					a.CustomerID, a.LoginCustomerID, a.ConversionAction, a.CallerID = s, s, s+"x", s
				}),
			}, false},
		)
	}
	many := make([]*forwarder.AdsConversion, 0, googleads.MaxBatch)
	for i := range googleads.MaxBatch {
		a := baseClick()
		if i%3 == 0 {
			a = baseCall()
		}
		a.ConversionAction = fmt.Sprint(100 + i%4)
		a.TransactionID = fmt.Sprintf("tx-%d-%s", i, oddStrings[i%len(oddStrings)][:min(20, len(oddStrings[i%len(oddStrings)]))])
		a.Time = a.Time.Add(time.Duration(i) * time.Second)
		if i%5 == 0 {
			zero := 0.0
			a.Value = &zero
		}
		many = append(many, a)
	}
	tests = append(tests, tc{"full batch", many, false})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameEncoding(t, tt.convs, tt.validateOnly)
		})
	}
}

func TestAppendIngestRequestRefusesNonNumbers(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		buf := []byte("kept")
		got, err := googleads.AppendIngestRequest(buf, []*forwarder.AdsConversion{with(baseClick(), value(v))}, false)
		if err == nil {
			t.Errorf("value %v encoded: %s", v, got)
		}
		if string(got) != "kept" {
			t.Errorf("value %v: the buffer became %q, want it as it was", v, got)
		}
	}
}

// TestIngestEncodingCoversAdsConversion fails when AdsConversion gains a
// field: BuildIngestRequest, AppendIngestRequest, the cases above and
// FuzzIngestEncoding must then learn it together.
func TestIngestEncodingCoversAdsConversion(t *testing.T) {
	known := []string{"Backend", "Kind", "CustomerID", "LoginCustomerID", "ConversionAction", "Time", "CallStart",
		"GCLID", "HashedPhone", "CallerID", "Value", "Currency", "TransactionID", "AdUserData"}
	var got []string
	for f := range reflect.TypeFor[forwarder.AdsConversion]().Fields() {
		got = append(got, f.Name)
	}
	if !slices.Equal(got, known) {
		t.Errorf("AdsConversion has fields %v, the encoder knows %v: teach the new ones to BuildIngestRequest, AppendIngestRequest and their tests", got, known)
	}
}

// FuzzIngestEncoding builds requests of one to four conversions from
// fuzzed fields and holds the encoder to the client's bytes.
func FuzzIngestEncoding(f *testing.F) {
	type seed struct {
		shape                                                 byte
		customer, login, action1, action2, gclid, phone, call string
		value                                                 float64
		currency, tx, consent                                 string
		sec, nsec, callSecs                                   int64
		validateOnly                                          bool
	}
	seeds := []seed{
		{0, customer, manager, action, "123", "Cj0KCQseed", testHash, "+61412345678", 50, "AUD", "tx-1", "GRANTED", testNow.Unix(), 0, 300, false},
		{0b1111, customer, "", action, "", "", "", "+61412345678", 0, "", "", "DENIED", testNow.Unix(), 999_999_999, 0, true},
		{0b0110, customer, manager, action, "7", "<&>", "\u2028\"\\", "\x00\xff", 1e21, "€", "日本\x7f", "\t", -62135596800, 1, -5, false},
		{0b10110, "", "", "", "", "", "", "", 1e-7, "", "", "", 253402300800, 0, 1 << 40, false},
	}
	for _, s := range seeds {
		f.Add(s.shape, s.customer, s.login, s.action1, s.action2, s.gclid, s.phone, s.call, s.value, s.currency, s.tx, s.consent, s.sec, s.nsec, s.callSecs, s.validateOnly)
	}
	f.Fuzz(func(t *testing.T, shape byte, customer, login, action1, action2, gclid, phone, caller string, v float64,
		currency, tx, consent string, sec, nsec, callSecs int64, validateOnly bool) {
		at := time.Unix(sec, nsec).In(time.FixedZone("fuzz", int(nsec%(14*3600))))
		a := &forwarder.AdsConversion{
			Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick,
			CustomerID: customer, LoginCustomerID: login, ConversionAction: action1,
			Time: at, CallStart: at.Add(-time.Duration(callSecs) * time.Second),
			GCLID: gclid, HashedPhone: phone, CallerID: caller, Currency: currency, TransactionID: tx, AdUserData: consent,
		}
		if shape&1 != 0 {
			a.Kind = forwarder.AdsCall
		}
		if shape&2 != 0 {
			a.Value = &v
		}
		convs := []*forwarder.AdsConversion{a}
		if shape&4 != 0 {
			// A second conversion, maybe for another action, with the
			// identifiers swapped around.
			convs = append(convs, with(a, func(b *forwarder.AdsConversion) {
				b.ConversionAction, b.GCLID, b.HashedPhone, b.TransactionID = action2, tx, gclid, phone
				b.Time, b.CallStart = b.CallStart, b.Time
			}))
		}
		if shape&8 != 0 {
			// One of the other kind, the first's action, no value.
			convs = append(convs, with(a, func(b *forwarder.AdsConversion) {
				b.Kind = map[string]string{forwarder.AdsClick: forwarder.AdsCall, forwarder.AdsCall: forwarder.AdsClick}[a.Kind]
				b.Value, b.LoginCustomerID, b.CustomerID = nil, customer, login
			}))
		}
		if shape&16 != 0 {
			convs = append(convs, with(a, func(b *forwarder.AdsConversion) {
				b.ConversionAction, b.HashedPhone, b.GCLID = action2+action1, "", caller
			}))
		}
		sameEncoding(t, convs, validateOnly)
	})
}
