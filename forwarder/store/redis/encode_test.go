package redis

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// marshalNewRecord is the pending record of d as encoding/json writes
// it, the encoding appendNewRecord must match.
func marshalNewRecord(d *forwarder.Delivery, due string) ([]byte, error) {
	dj, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return json.Marshal(record{Delivery: string(dj), State: store.JobPending, Due: due, Dest: d.Destination, Tally: noOutcome})
}

func sameNewRecord(t *testing.T, name string, d *forwarder.Delivery, due string) {
	t.Helper()
	want, wantErr := marshalNewRecord(d, due)
	got, scratch, err := appendNewRecord([]byte("kept"), []byte("scratch"), d, due)
	if wantErr != nil || err != nil {
		if (wantErr == nil) != (err == nil) || string(got) != "kept" {
			t.Fatalf("%s: encoding/json error %v, appendNewRecord error %v leaving %q", name, wantErr, err, got)
		}
		return
	}
	if string(got) != "kept"+string(want) {
		t.Fatalf("%s:\n got %s\nwant kept%s", name, got, want)
	}
	var back record
	if err := json.Unmarshal(got[len("kept"):], &back); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if back.Delivery != string(scratch) {
		t.Fatalf("%s: scratch holds %s, the record's delivery is %s", name, scratch, back.Delivery)
	}
}

// TestAppendNewRecordAsEncodingJSON: the pending record of every kind of
// delivery, with strings needing every escape at both levels, encodes to
// json.Marshal's bytes.
func TestAppendNewRecordAsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 18, 30, 0, 7, time.FixedZone("", -3600))
	v := 1e21
	n := 3
	tests := []struct {
		name string
		d    forwarder.Delivery
	}{
		{"zero", forwarder.Delivery{}},
		{"ga4", forwarder.Delivery{
			ID: "CA1/r/web", CallSid: "CA1", Rule: "r", Destination: "web", Type: forwarder.DestinationGA4, CallTime: at,
			GA4: &forwarder.GA4Event{
				MeasurementID: "G-1", ClientID: "1.2", Name: "call", Time: at,
				Params: map[string]any{"q": `"quoted" \ <tag> & é` + "\u2028\x01", "n": 187, "raw": json.RawMessage(`"\xff<"`)},
			},
		}},
		{"ads", forwarder.Delivery{
			ID: "CA1/r/ads", Destination: "ads<>", Type: forwarder.DestinationGoogleAds, Trace: "t",
			Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick, Value: &v, Time: at},
		}},
		{"ua", forwarder.Delivery{UA: &forwarder.UAHit{Value: &n, Campaign: map[string]string{"cn": "\\"}, NonInteraction: true}}},
		{"not a number", forwarder.Delivery{Ads: &forwarder.AdsConversion{Value: func() *float64 { f := math.NaN(); return &f }()}}},
		{"year 10000", forwarder.Delivery{CallTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		for _, due := range []string{"1765132200000000000", `odd "due" <\>`} {
			t.Run(tt.name, func(t *testing.T) { sameNewRecord(t, tt.name, &tt.d, due) })
		}
	}
}

// TestAppendNewRecordCoversRecord fails when record gains, loses or
// renames a field: appendNewRecord must then learn whether a new pending
// record carries it.
func TestAppendNewRecordCoversRecord(t *testing.T) {
	known := []string{
		`Delivery json:"delivery"`, `State json:"state"`, `Attempts json:"attempts"`, `Due json:"due"`,
		`LastError json:"last_error,omitempty"`, `Lease json:"lease,omitempty"`, `Settled json:"settled,omitempty"`,
		`Reason json:"reason,omitempty"`, `Code json:"code,omitempty"`, `History json:"history,omitempty"`,
		`Verdict json:"verdict,omitempty"`, `Kind json:"kind,omitempty"`, `Request json:"request,omitempty"`,
		`DoneDelivery json:"done_delivery,omitempty"`, `Dest json:"dest,omitempty"`, `Tally json:"tally,omitempty"`,
	}
	var got []string
	for f := range reflect.TypeFor[record]().Fields() {
		got = append(got, f.Name+" "+string(f.Tag))
	}
	if !slices.Equal(got, known) {
		t.Errorf("record has fields %q, appendNewRecord knows %q: teach it the new ones", got, known)
	}
}

// FuzzAppendNewRecord holds appendNewRecord to json.Marshal's bytes over
// fuzzed deliveries.
func FuzzAppendNewRecord(f *testing.F) {
	f.Add("CA1/r/web", "web", "phone_call", "\"<\\>\"\u2028\xff", "1765132200000000000", 50.5)
	f.Add("", "", "", "", "", 0.0)
	f.Fuzz(func(t *testing.T, id, dest, name, text, due string, v float64) {
		d := forwarder.Delivery{
			ID: id, CallSid: text, Destination: dest, Type: forwarder.DestinationGA4, Trace: text,
			GA4: &forwarder.GA4Event{Name: name, ClientID: text, Params: map[string]any{text: text, name: v}},
		}
		sameNewRecord(t, "fuzzed", &d, due)
	})
}

// BenchmarkNewRecord encodes the pending record of a GA4 delivery the
// way Accept did through encoding/json and by appendNewRecord.
func BenchmarkNewRecord(b *testing.B) {
	at := time.Date(2026, 12, 7, 18, 30, 0, 0, time.UTC)
	d := &forwarder.Delivery{
		ID: "CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b/qualified-call/website", CallSid: "CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b",
		Rule: "qualified-call", Destination: "website", Type: forwarder.DestinationGA4, CallTime: at,
		GA4: &forwarder.GA4Event{
			MeasurementID: "G-BENCHWEB01", ClientID: "1873452911.1764110422", Name: "qualified_call", Time: at,
			Params: map[string]any{"value": 50.0, "currency": "AUD", "duration": 187.0, "number_name": "Website - Google Ads", "campaign": "Emergency Plumbing - Sydney"},
		},
	}
	due := encodeTime(at)
	var scratch []byte
	storetest.BenchEncoding(b,
		func() ([]byte, error) { return marshalNewRecord(d, due) },
		func(buf []byte) (out []byte, err error) {
			out, scratch, err = appendNewRecord(buf, scratch, d, due)
			return out, err
		})
}
