package bolt

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// TestRawRecordSameJSON: a record read as a rawRecord and written back is
// byte for byte the record, in every state, so the queue's paths that
// leave the delivery encoded keep the stored format.
func TestRawRecordSameJSON(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 123, time.UTC)
	d := forwarder.Delivery{
		ID: "CA1/r/web", CallSid: "CA1", Rule: "r", Destination: "web", Type: forwarder.DestinationGA4,
		CallTime: at,
		GA4: &forwarder.GA4Event{
			MeasurementID: "G-TEST000001", ClientID: "1.2", Name: "call",
			Params: map[string]any{
				"duration": 95, "value": 12.5, "empty": map[string]any{}, "list": []any{"a", 1.0},
				// Strings that look like structure to a careless scanner.
				"tricky": `}]"{[\\"}\\`, "quote": `"`, "backslash": `\\`, "html": "<a&b>", "unicode": "é\u2028\x00",
			},
			Time: at,
		},
		Trace: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	}
	tests := []struct {
		name string
		rec  record
	}{
		{"pending", record{Job: store.Job{Delivery: d, DueAt: at}, State: store.JobPending}},
		{"claimed", record{Job: store.Job{Delivery: d, DueAt: at, Attempts: 2, LastError: "timeout", Lease: "L"}, State: store.JobPending}},
		{"done", record{Job: store.Job{Delivery: d, DueAt: at, Attempts: 1}, State: store.JobDone, Settled: at}},
		{"dead", record{Job: store.Job{Delivery: d, DueAt: at, Attempts: 3, LastError: "bad"}, State: store.JobDead, Settled: at, Reason: "bad", Code: "400"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			var raw rawRecord
			if err := decodeRawRecord(want, &raw); err != nil {
				t.Fatalf("decode as rawRecord: %v", err)
			}
			got, err := encodeRawRecord(raw)
			if err != nil {
				t.Fatalf("encode rawRecord: %v", err)
			}
			if string(got) != string(want) {
				t.Errorf("rawRecord round trip:\n got %s\nwant %s", got, want)
			}
			if std, err := json.Marshal(raw); err != nil || string(std) != string(want) {
				t.Errorf("rawRecord through encoding/json = %s, %v; want %s", std, err, want)
			}
			j, err := raw.job()
			if err != nil {
				t.Fatalf("job(): %v", err)
			}
			wantSame(t, "job()", j, tt.rec.Job)
		})
	}
}

// wantSame checks that got and want encode to the same JSON.
func wantSame(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// TestDecodeRawRecordFallback: records not laid out as encoding/json
// writes them (fields in another order, a delivery that is not an object,
// damaged JSON) are decoded, or refused, as encoding/json would.
func TestDecodeRawRecordFallback(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		wantErr      bool
		wantDelivery string
		wantLease    string
	}{
		{name: "other order", in: `{"state":"pending","job":{"lease":"L","delivery":{"id":"a}"},"attempts":1,"due_at":"2026-03-02T09:30:00Z"}}`,
			wantDelivery: `{"id":"a}"}`, wantLease: "L"},
		{name: "spaces", in: `{"job": {"delivery": {"id": "x"}, "lease": "L", "due_at": "2026-03-02T09:30:00Z"}, "state": "pending"}`,
			wantDelivery: `{"id": "x"}`, wantLease: "L"},
		{name: "null delivery", in: `{"job":{"delivery":null,"attempts":0,"due_at":"2026-03-02T09:30:00Z","lease":"L"},"state":"pending"}`,
			wantDelivery: `null`, wantLease: "L"},
		{name: "unterminated delivery", in: `{"job":{"delivery":{"id":"x","attempts":0}`, wantErr: true},
		{name: "damaged rest", in: `{"job":{"delivery":{"id":"x"},"attempts":"one"},"state":"pending"}`, wantErr: true},
		{name: "not JSON", in: `garbage`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec rawRecord
			err := decodeRawRecord([]byte(tt.in), &rec)
			var std rawRecord
			stdErr := json.Unmarshal([]byte(tt.in), &std)
			if (err != nil) != tt.wantErr || (stdErr != nil) != tt.wantErr {
				t.Fatalf("decodeRawRecord = %v, encoding/json = %v; want error: %v", err, stdErr, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if string(rec.Job.Delivery) != tt.wantDelivery || rec.Job.Lease != tt.wantLease {
				t.Errorf("decoded delivery %s lease %q, want %s %q", rec.Job.Delivery, rec.Job.Lease, tt.wantDelivery, tt.wantLease)
			}
			wantSame(t, "decoded record", rec, std)
		})
	}
}

// FuzzRawRecord: for any stored record, decodeRawRecord agrees with
// encoding/json, and encodeRawRecord writes what encoding/json writes.
func FuzzRawRecord(f *testing.F) {
	f.Add(`{"job":{"delivery":{"id":"a","ga4":{"params":{"x":"}\\\""}}},"attempts":1,"due_at":"2026-03-02T09:30:00Z","lease":"L"},"state":"pending"}`)
	f.Add(`{"job":{"delivery":{"a":[{"b":"]"}]},"attempts":0,"due_at":"2026-03-02T09:30:00Z"},"state":"done","settled":"2026-03-02T09:31:00Z"}`)
	f.Add(`{"job":{"delivery":{"a":"\\"},"attempts":0,"due_at":"2026-03-02T09:30:00Z"},"state":"dead","reason":"r","code":"c"}`)
	f.Fuzz(func(t *testing.T, in string) {
		var std rawRecord
		stdErr := json.Unmarshal([]byte(in), &std)
		var rec rawRecord
		err := decodeRawRecord([]byte(in), &rec)
		if stdErr != nil {
			// Invalid JSON: refused, or read past a damaged delivery that
			// decoding it for a send would report.
			if err == nil {
				if _, derr := rec.job(); derr == nil && json.Valid(rec.Job.Delivery) {
					t.Fatalf("decodeRawRecord accepted %q, which encoding/json refuses (%v)", in, stdErr)
				}
			}
			return
		}
		if err != nil {
			t.Fatalf("decodeRawRecord(%q) = %v, encoding/json accepts it", in, err)
		}
		g, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		w, err := json.Marshal(std)
		if err != nil {
			t.Fatal(err)
		}
		if string(g) != string(w) {
			t.Fatalf("decodeRawRecord(%q):\n got %s\nwant %s", in, g, w)
		}
		enc, err := encodeRawRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json compacts and HTML-escapes a json.RawMessage, which
		// encodeRawRecord copies as it is: the same JSON value.
		var got, exp any
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("encodeRawRecord wrote invalid JSON %s: %v", enc, err)
		}
		if err := json.Unmarshal(want, &exp); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("encodeRawRecord = %s, encoding/json writes %s", enc, want)
		}
	})
}
