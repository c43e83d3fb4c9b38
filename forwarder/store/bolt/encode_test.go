package bolt

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
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
