package bolt

import (
	"bytes"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// TestAckWritesRecordRead: Ack writes the done record made of the record
// it reads, whether or not the job in hand still matches it (its record
// prepared before the transaction is written only when it does).
func TestAckWritesRecordRead(t *testing.T) {
	tests := []struct {
		name string
		zone *time.Location
		// change runs between Claim and Ack.
		change func(t *testing.T, s *Store, j *store.Job)
	}{
		{"as claimed", time.UTC, func(*testing.T, *Store, *store.Job) {}},
		{"clock in another zone", time.FixedZone("", -7*3600), func(*testing.T, *Store, *store.Job) {}},
		{"lease extended", time.UTC, func(t *testing.T, s *Store, j *store.Job) {
			if err := s.Extend(t.Context(), []store.Job{*j}, time.Hour)[0]; err != nil {
				t.Fatalf("Extend = %v", err)
			}
		}},
		{"attempts changed in hand", time.UTC, func(_ *testing.T, _ *Store, j *store.Job) { j.Attempts = 7 }},
		{"error changed in hand", time.UTC, func(_ *testing.T, _ *Store, j *store.Job) { j.LastError = "in hand" }},
		{"due time changed in hand", time.UTC, func(_ *testing.T, _ *Store, j *store.Job) { j.DueAt = j.DueAt.Add(time.Second) }},
		{"history and verdict in hand", time.UTC, func(_ *testing.T, _ *Store, j *store.Job) {
			j.History = []store.Attempt{{At: j.DueAt, Took: time.Second, Result: store.AttemptDelivered}}
			j.Verdict = &forwarder.Verdict{Outcome: forwarder.OutcomeCounted}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2026, 3, 2, 9, 30, 0, 5, tt.zone)
			s, err := Open(filepath.Join(t.TempDir(), "forwarder.db"), store.Options{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			call := &forwarder.Call{Sid: "CA-ack", Event: forwarder.EventComplete, StartDate: now.Add(-time.Minute)}
			d := storetest.GA4Delivery(call.Sid, "r", call.StartDate)
			if err := s.Accept(t.Context(), call, []forwarder.Delivery{d}); err != nil {
				t.Fatal(err)
			}
			jobs, err := s.Claim(t.Context(), 1)
			if err != nil || len(jobs) != 1 {
				t.Fatalf("Claim = %d jobs, %v", len(jobs), err)
			}
			j := jobs[0]
			tt.change(t, s, &j)
			var read rawRecord
			if err := decodeRawRecord(rawValue(t, s, d.ID), &read); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Second)
			if err := s.Ack(t.Context(), j); err != nil {
				t.Fatalf("Ack = %v", err)
			}
			dd, err := store.EncodeDoneDelivery(d)
			if err != nil {
				t.Fatal(err)
			}
			want := read
			want.Job.Delivery, want.Job.Lease, want.Job.Attempts = dd, "", read.Job.Attempts+1
			want.Job.History, want.Job.Verdict = store.BoundHistory(j.History), j.Verdict
			want.State, want.Settled = store.JobDone, now
			wantV, err := encodeRawRecord(want)
			if err != nil {
				t.Fatal(err)
			}
			if got := rawValue(t, s, d.ID); !bytes.Equal(got, wantV) {
				t.Errorf("done record:\n got %s\nwant %s", got, wantV)
			}
			// Stored without what its key gives back.
			if got, want := storedValue(t, s, d.ID), compactRecord([]byte(d.ID), wantV); !bytes.Equal(got, want) || bytes.Equal(got, wantV) {
				t.Errorf("done record stored:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestSameEncoding: sameEncoding reports equal exactly the records that
// encode to the same bytes.
func TestSameEncoding(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 5, time.UTC)
	base := rawRecord{
		Job: rawJob{
			Delivery: []byte(`{"id":"a"}`), Attempts: 1, DueAt: at, LastError: "e", Lease: "L",
			History: []store.Attempt{{At: at, Took: 1, Result: "r", Code: "c", Error: "e", RequestID: "q"}},
			Verdict: &forwarder.Verdict{Outcome: "o", Reason: "r", Note: "n"},
		},
		State: store.JobDone, Settled: at, Reason: "r", Code: "c", Kind: "k", Request: "q",
	}
	// clone returns base with its own history and verdict, changed by f.
	clone := func(f func(r *rawRecord)) rawRecord {
		r := base
		r.Job.History = append([]store.Attempt(nil), base.Job.History...)
		v := *base.Job.Verdict
		r.Job.Verdict = &v
		r.Job.Delivery = bytes.Clone(base.Job.Delivery)
		f(&r)
		return r
	}
	tests := []struct {
		name string
		rec  rawRecord
		same bool
	}{
		{"copy", clone(func(*rawRecord) {}), true},
		{"same offset, other location", clone(func(r *rawRecord) { r.Job.DueAt = at.In(time.FixedZone("", 0)) }), true},
		{"other offset", clone(func(r *rawRecord) { r.Job.DueAt = at.In(time.FixedZone("", 3600)) }), false},
		{"state", clone(func(r *rawRecord) { r.State = store.JobDead }), false},
		{"settled", clone(func(r *rawRecord) { r.Settled = at.Add(1) }), false},
		{"reason", clone(func(r *rawRecord) { r.Reason = "" }), false},
		{"code", clone(func(r *rawRecord) { r.Code = "" }), false},
		{"kind", clone(func(r *rawRecord) { r.Kind = "" }), false},
		{"request", clone(func(r *rawRecord) { r.Request = "" }), false},
		{"delivery", clone(func(r *rawRecord) { r.Job.Delivery = []byte(`{"id":"b"}`) }), false},
		{"no delivery", clone(func(r *rawRecord) { r.Job.Delivery = nil }), false},
		{"attempts", clone(func(r *rawRecord) { r.Job.Attempts++ }), false},
		{"due", clone(func(r *rawRecord) { r.Job.DueAt = at.Add(time.Second) }), false},
		{"last error", clone(func(r *rawRecord) { r.Job.LastError = "" }), false},
		{"lease", clone(func(r *rawRecord) { r.Job.Lease = "" }), false},
		{"no history", clone(func(r *rawRecord) { r.Job.History = nil }), false},
		{"history time", clone(func(r *rawRecord) { r.Job.History[0].At = at.Add(1) }), false},
		{"history took", clone(func(r *rawRecord) { r.Job.History[0].Took = 2 }), false},
		{"history result", clone(func(r *rawRecord) { r.Job.History[0].Result = "" }), false},
		{"history code", clone(func(r *rawRecord) { r.Job.History[0].Code = "" }), false},
		{"history error", clone(func(r *rawRecord) { r.Job.History[0].Error = "" }), false},
		{"history request", clone(func(r *rawRecord) { r.Job.History[0].RequestID = "" }), false},
		{"no verdict", clone(func(r *rawRecord) { r.Job.Verdict = nil }), false},
		{"verdict outcome", clone(func(r *rawRecord) { r.Job.Verdict.Outcome = "" }), false},
		{"verdict note", clone(func(r *rawRecord) { r.Job.Verdict.Note = "" }), false},
	}
	want, err := encodeRawRecord(base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeRawRecord(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(got, want) != tt.same {
				t.Fatalf("encodings equal = %v, want %v:\n%s\n%s", !tt.same, tt.same, got, want)
			}
			if s := sameEncoding(&base, &tt.rec); s != tt.same {
				t.Errorf("sameEncoding = %v, want %v", s, tt.same)
			}
		})
	}
}

// TestSameEncodingSeesEveryField changes each field of a record, of its
// job, of an attempt of its history and of its verdict in turn, found by
// reflection, and requires sameEncoding to see the change: a field added
// to one of these types without being compared would let Ack write a
// record prepared from a job that no longer matches the one stored.
func TestSameEncodingSeesEveryField(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 5, time.UTC)
	base := func() *rawRecord {
		return &rawRecord{
			Job: rawJob{
				Delivery: []byte(`{"id":"a"}`), Attempts: 1, DueAt: at, LastError: "e", Lease: "L",
				History: []store.Attempt{{At: at, Took: 1, Result: "r", Code: "c", Error: "e", RequestID: "q"}},
				Verdict: &forwarder.Verdict{Outcome: "o", Reason: "r", Note: "n"},
			},
			State: store.JobDone, Settled: at, Reason: "r", Code: "c", Kind: "k", Request: "q",
		}
	}
	// structs returns the structs of r whose fields are compared.
	structs := func(r *rawRecord) map[string]reflect.Value {
		return map[string]reflect.Value{
			"record":  reflect.ValueOf(r).Elem(),
			"job":     reflect.ValueOf(&r.Job).Elem(),
			"attempt": reflect.ValueOf(&r.Job.History[0]).Elem(),
			"verdict": reflect.ValueOf(r.Job.Verdict).Elem(),
		}
	}
	timeType := reflect.TypeFor[time.Time]()
	for name, v := range structs(base()) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Type.Kind() == reflect.Struct && f.Type != timeType {
				continue // a nested struct: its fields are checked as their own
			}
			t.Run(name+"."+f.Name, func(t *testing.T) {
				a, b := base(), base()
				fv := structs(b)[name].Field(i)
				switch {
				case f.Type == timeType:
					fv.Set(reflect.ValueOf(at.Add(time.Second)))
				case f.Type.Kind() == reflect.String:
					fv.SetString(fv.String() + "x")
				case f.Type.Kind() == reflect.Int, f.Type.Kind() == reflect.Int64:
					fv.SetInt(fv.Int() + 1)
				case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8:
					fv.SetBytes([]byte(`{"id":"b"}`))
				case f.Type.Kind() == reflect.Slice, f.Type.Kind() == reflect.Pointer:
					fv.SetZero()
				default:
					t.Fatalf("field %s %s: the test does not know how to change it; teach it, and sameEncoding", f.Name, f.Type)
				}
				if sameEncoding(a, b) {
					t.Errorf("sameEncoding is true with %s.%s changed", name, f.Name)
				}
			})
		}
	}
}

// TestAckPolledPreparesPolledRecords: the done records of jobs
// acknowledged under a poll, which keep their whole delivery, are
// prepared before the write transaction like those of the other done
// jobs, and the value prepared is the one the transaction writes.
func TestAckPolledPreparesPolledRecords(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("", 10*3600))
	s, err := Open(filepath.Join(t.TempDir(), "forwarder.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	call := &forwarder.Call{Sid: "CA-polled", Event: forwarder.EventComplete, StartDate: now.Add(-time.Minute)}
	value := 50.5
	ads := forwarder.Delivery{
		ID: forwarder.DeliveryID(call.Sid, "qualified", "ads"), CallSid: call.Sid, Rule: "qualified", Destination: "ads",
		Type: forwarder.DestinationGoogleAds, CallTime: call.StartDate,
		Ads: &forwarder.AdsConversion{
			Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick, CustomerID: "1234567890",
			ConversionAction: "987654321", Time: call.StartDate, GCLID: "Cj0KCQ-test",
			HashedPhone: "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
			Value:       &value, Currency: "AUD", TransactionID: call.Sid + "/qualified", AdUserData: "GRANTED",
		},
	}
	ds := []forwarder.Delivery{ads, storetest.GA4Delivery(call.Sid, "ga4", call.StartDate)}
	if err := s.Accept(t.Context(), call, ds); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(t.Context(), len(ds))
	if err != nil || len(jobs) != len(ds) {
		t.Fatalf("Claim = %d jobs, %v", len(jobs), err)
	}
	p := store.Poll{RequestID: "req-1", DueAt: now}
	for i := range jobs {
		jobs[i].History = []store.Attempt{{At: now, Took: time.Second, Result: store.AttemptDelivered, RequestID: p.RequestID}}
		p.Items = append(p.Items, store.PollItem{DeliveryID: jobs[i].Delivery.ID, Index: i})
	}
	now = now.Add(time.Second)
	// Every job is in the poll: none has a done delivery of its own.
	prepared := ackPrepared(jobs, make([][]byte, len(jobs)), p.RequestID, now)
	for _, err := range s.AckPolled(t.Context(), jobs, p) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, j := range jobs {
		if prepared[i].value == nil {
			t.Errorf("%s: no record prepared", j.Delivery.ID)
			continue
		}
		want, err := decodeJob(nil, []byte(j.Delivery.ID), prepared[i].value)
		if err != nil {
			t.Fatal(err)
		}
		if got := rawValue(t, s, j.Delivery.ID); !bytes.Equal(got, want) {
			t.Errorf("%s: stored\n %s\nprepared\n %s", j.Delivery.ID, got, want)
		}
		var rec rawRecord
		if err := decodeRawRecord(want, &rec); err != nil || rec.State != store.JobDone || rec.Request != p.RequestID {
			t.Errorf("%s: prepared record %+v, %v; want done by %s", j.Delivery.ID, rec, err, p.RequestID)
		}
	}
}
