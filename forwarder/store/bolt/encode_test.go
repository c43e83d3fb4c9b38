package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// sameRecord fails t unless appendRecord encodes rec as json.Marshal
// does, after what the buffer held.
func sameRecord(t *testing.T, name string, rec record) {
	t.Helper()
	want, wantErr := json.Marshal(rec)
	got, err := appendRecord([]byte("kept"), &rec)
	if wantErr != nil || err != nil {
		if (wantErr == nil) != (err == nil) || string(got) != "kept" {
			t.Fatalf("%s: encoding/json error %v, appendRecord error %v leaving %q", name, wantErr, err, got)
		}
		return
	}
	if string(got) != "kept"+string(want) {
		t.Fatalf("%s:\n got %s\nwant kept%s", name, got, want)
	}
}

// TestAppendRecordAsEncodingJSON: every field of a job record encodes to
// json.Marshal's bytes.
func TestAppendRecordAsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 18, 30, 0, 7, time.FixedZone("", 5*3600+1800))
	value := 12.5
	d := forwarder.Delivery{
		ID: "CA1/r/d", CallSid: "CA1", Rule: "r", Destination: "d", Type: forwarder.DestinationGoogleAds, CallTime: at,
		Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick, Time: at, Value: &value},
	}
	tests := []struct {
		name string
		rec  record
	}{
		{"zero", record{}},
		{"pending", record{Job: store.Job{Delivery: d, DueAt: at}, State: store.JobPending}},
		{"dead", record{
			Job:   store.Job{Delivery: d, Attempts: 5, DueAt: at, LastError: "HTTP 400 <bad>", History: []store.Attempt{{At: at, Result: store.AttemptDead}}},
			State: store.JobDead, Settled: at, Reason: "refused & \"gone\"", Code: "INVALID_ARGUMENT", Kind: store.DeadProcessing,
		}},
		{"done", record{
			Job:   store.Job{Delivery: d, Verdict: &forwarder.Verdict{Outcome: forwarder.OutcomeCounted}},
			State: store.JobDone, Settled: at.UTC(), Request: "req\u2028",
		}},
		{"dropped", record{State: store.JobDropped, Settled: at, Kind: store.DeadSend}},
		{"settled year 10000", record{Settled: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"due year -1", record{Job: store.Job{DueAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameRecord(t, tt.name, tt.rec) })
	}
}

// TestAppendRecordCoversRecord fails when record gains, loses or renames
// a field: appendRecord and the test above must learn it.
func TestAppendRecordCoversRecord(t *testing.T) {
	known := []string{
		`Job json:"job"`, `State json:"state"`, `Settled json:"settled,omitzero"`, `Reason json:"reason,omitempty"`,
		`Code json:"code,omitempty"`, `Kind json:"kind,omitempty"`, `Request json:"request,omitempty"`,
	}
	var got []string
	for f := range reflect.TypeFor[record]().Fields() {
		got = append(got, f.Name+" "+string(f.Tag))
	}
	if !slices.Equal(got, known) {
		t.Errorf("record has fields %q, appendRecord knows %q: teach it the new ones", got, known)
	}
}

// FuzzAppendRecord holds appendRecord to json.Marshal's bytes over fuzzed
// records.
func FuzzAppendRecord(f *testing.F) {
	f.Add("CA1/r/d", "pending", "", "", int64(1765132200), int64(0), int64(0), 3)
	f.Add("<&>", "dead", "\xff\u2028", "HTTP_503", int64(253402300800), int64(999999999), int64(-3600), -1)
	f.Fuzz(func(t *testing.T, id, state, reason, code string, sec, nsec, offset int64, n int) {
		at := time.Unix(sec, nsec).In(time.FixedZone("", int(offset%(48*3600))))
		rec := record{
			Job: store.Job{
				Delivery: forwarder.Delivery{ID: id, CallSid: code, CallTime: at, Trace: reason},
				Attempts: n, DueAt: at, LastError: reason, Lease: code,
			},
			State: store.JobState(state), Reason: reason, Code: code, Kind: state, Request: id,
		}
		if n%2 == 0 {
			rec.Settled = at
		}
		sameRecord(t, fmt.Sprintf("record %+v", rec), rec)
	})
}

// sameRawRecord fails t unless appendRawRecord encodes rec, after what
// the buffer held, as json.Marshal does with the delivery's bytes spliced
// in as they are: json.Marshal's bytes when the delivery is as
// json.Marshal writes it.
func sameRawRecord(t *testing.T, name string, rec rawRecord) {
	t.Helper()
	d := rec.Job.Delivery
	rec.Job.Delivery = nil
	rest, wantErr := json.Marshal(rec)
	rec.Job.Delivery = d
	got, err := appendRawRecord([]byte("kept"), &rec)
	if wantErr != nil || err != nil {
		if (wantErr == nil) != (err == nil) || string(got) != "kept" {
			t.Fatalf("%s: encoding/json error %v, appendRawRecord error %v leaving %q", name, wantErr, err, got)
		}
		return
	}
	want := string(rest)
	if d != nil {
		head := string(rawPrefix) + jsonNull
		if !strings.HasPrefix(want, head) {
			t.Fatalf("%s: encoding/json wrote %s", name, want)
		}
		want = string(rawPrefix) + string(d) + want[len(head):]
	}
	if string(got) != "kept"+want {
		t.Fatalf("%s:\n got %s\nwant kept%s", name, got, want)
	}
	if std, err := json.Marshal(rec); err == nil && json.Valid(d) && bytes.Equal(std, []byte(want)) != isMarshaled(d) {
		t.Fatalf("%s: encoding/json writes %s, appendRawRecord %s", name, std, want)
	}
}

// isMarshaled reports whether the JSON value d is as json.Marshal writes
// a value: compact and HTML-escaped.
func isMarshaled(d []byte) bool {
	// json.Valid, not json.Unmarshal: a number beyond float64's range is
	// valid JSON, and json.Marshal writes a RawMessage holding it as it is.
	if !json.Valid(d) {
		return false
	}
	var b bytes.Buffer
	json.Compact(&b, d)
	var h bytes.Buffer
	json.HTMLEscape(&h, b.Bytes())
	return bytes.Equal(h.Bytes(), d)
}

// TestAppendRawRecordAsEncodingJSON: a record with its delivery left
// encoded encodes to json.Marshal's bytes in every state.
func TestAppendRawRecordAsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 18, 30, 0, 7, time.FixedZone("", 5*3600+1800))
	value := 12.5
	d, err := json.Marshal(forwarder.Delivery{
		ID: "CA1/r/d", CallSid: "CA1", Rule: "r", Destination: "d", Type: forwarder.DestinationGoogleAds, CallTime: at,
		Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick, Time: at, Value: &value},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		rec  rawRecord
	}{
		{"zero", rawRecord{}},
		{"null delivery", rawRecord{Job: rawJob{Delivery: json.RawMessage(jsonNull), DueAt: at}}},
		{"pending", rawRecord{Job: rawJob{Delivery: d, DueAt: at}, State: store.JobPending}},
		{"claimed", rawRecord{Job: rawJob{Delivery: d, DueAt: at, Attempts: 2, LastError: "HTTP 503 <busy>", Lease: "L"}, State: store.JobPending}},
		{"dead", rawRecord{
			Job:   rawJob{Delivery: d, Attempts: 5, DueAt: at, LastError: "bad", History: []store.Attempt{{At: at, Took: 3, Result: store.AttemptDead, Code: "c", Error: "e\u2028", RequestID: "r"}}},
			State: store.JobDead, Settled: at, Reason: "refused & \"gone\"", Code: "INVALID_ARGUMENT", Kind: store.DeadProcessing,
		}},
		{"done", rawRecord{
			Job:   rawJob{Delivery: d, Attempts: 1, Verdict: &forwarder.Verdict{Outcome: forwarder.OutcomeCounted, Reason: "r", Note: "n"}},
			State: store.JobDone, Settled: at.UTC(), Request: "req",
		}},
		{"spaced delivery", rawRecord{Job: rawJob{Delivery: json.RawMessage(`{"id": "<a>"}`)}}},
		{"settled year 10000", rawRecord{Settled: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"due year -1", rawRecord{Job: rawJob{Delivery: d, DueAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		{"history year 10000", rawRecord{Job: rawJob{History: []store.Attempt{{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameRawRecord(t, tt.name, tt.rec) })
	}
}

// TestAppendRawRecordCoversRawRecord fails when rawRecord or rawJob gains,
// loses or renames a field: appendRawRecord and the test above must learn
// it.
func TestAppendRawRecordCoversRawRecord(t *testing.T) {
	tests := []struct {
		typ   reflect.Type
		known []string
	}{
		{reflect.TypeFor[rawRecord](), []string{
			`Job json:"job"`, `State json:"state"`, `Settled json:"settled,omitzero"`, `Reason json:"reason,omitempty"`,
			`Code json:"code,omitempty"`, `Kind json:"kind,omitempty"`, `Request json:"request,omitempty"`,
		}},
		{reflect.TypeFor[rawJob](), []string{
			`Delivery json:"delivery"`, `Attempts json:"attempts"`, `DueAt json:"due_at"`, `LastError json:"last_error,omitempty"`,
			`Lease json:"lease,omitempty"`, `History json:"history,omitempty"`, `Verdict json:"verdict,omitempty"`,
		}},
	}
	for _, tt := range tests {
		var got []string
		for f := range tt.typ.Fields() {
			got = append(got, f.Name+" "+string(f.Tag))
		}
		if !slices.Equal(got, tt.known) {
			t.Errorf("%s has fields %q, appendRawRecord knows %q: teach it the new ones", tt.typ, got, tt.known)
		}
	}
}

// FuzzAppendRawRecord holds appendRawRecord to json.Marshal's bytes, the
// delivery spliced in, over fuzzed records and deliveries.
func FuzzAppendRawRecord(f *testing.F) {
	f.Add(`{"id":"CA1/r/d"}`, "pending", "", "", int64(1765132200), int64(0), int64(0), 3)
	f.Add(`{"id":"<&>","x":[1, 2]}`, "dead", "\xff\u2028", "HTTP_503", int64(253402300800), int64(999999999), int64(-3600), -1)
	f.Fuzz(func(t *testing.T, delivery, state, reason, code string, sec, nsec, offset int64, n int) {
		at := time.Unix(sec, nsec).In(time.FixedZone("", int(offset%(48*3600))))
		rec := rawRecord{
			Job: rawJob{
				Delivery: json.RawMessage(delivery), Attempts: n, DueAt: at, LastError: reason, Lease: code,
			},
			State: store.JobState(state), Reason: reason, Code: code, Kind: state, Request: code,
		}
		if n%2 == 0 {
			rec.Settled = at
			rec.Job.History = []store.Attempt{{At: at, Took: time.Duration(nsec), Result: state, Code: code, Error: reason, RequestID: delivery}}
		}
		if n%3 == 0 {
			rec.Job.Verdict = &forwarder.Verdict{Outcome: forwarder.Outcome(state), Reason: reason, Note: code}
		}
		sameRawRecord(t, fmt.Sprintf("record %+v", rec), rec)
	})
}
