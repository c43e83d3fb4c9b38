package bolt

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// tailOf returns the tail of the encoded record v, after its delivery.
func tailOf(t *testing.T, v []byte) []byte {
	t.Helper()
	end, ok := objectEnd(v, len(rawPrefix))
	if !ok {
		t.Fatalf("no delivery in %s", v)
	}
	return v[end:]
}

// sameTail fails t unless recordTail decodes tail as encoding/json
// decodes the record with a null delivery and that tail, when it decodes
// it at all.
func sameTail(t *testing.T, tail []byte) (decoded bool) {
	t.Helper()
	var rec rawRecord
	if !recordTail(tail, &rec) {
		return false
	}
	var std rawRecord
	in := string(rawPrefix) + jsonNull + string(tail)
	if err := json.Unmarshal([]byte(in), &std); err != nil {
		t.Fatalf("recordTail decoded %s, which encoding/json refuses: %v", in, err)
	}
	std.Job.Delivery = nil
	if !reflect.DeepEqual(rec, std) {
		t.Fatalf("recordTail(%s):\n got %+v\nwant %+v", tail, rec, std)
	}
	return true
}

// TestRecordTail: the tail of every record the store writes is decoded
// directly, as encoding/json decodes it; tails written otherwise are
// left to encoding/json.
func TestRecordTail(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 123, time.FixedZone("", 3600))
	d := json.RawMessage(`{"id":"CA1/r/web"}`)
	written := []struct {
		name string
		rec  rawRecord
	}{
		{"pending", rawRecord{Job: rawJob{Delivery: d, DueAt: at}, State: store.JobPending}},
		{"claimed", rawRecord{Job: rawJob{Delivery: d, DueAt: at, Attempts: 2, LastError: "timeout é", Lease: "L"}, State: store.JobPending}},
		{"done", rawRecord{
			Job: rawJob{
				Delivery: d, DueAt: at, Attempts: 1,
				History: []store.Attempt{
					{At: at, Took: -3, Result: store.AttemptRetry, Code: "HTTP_503", Error: "busy", RequestID: "r1"},
					{At: at.UTC(), Took: 1500 * time.Millisecond, Result: store.AttemptDelivered},
				},
				Verdict: &forwarder.Verdict{Outcome: forwarder.OutcomeCounted, Reason: "DUPLICATE", Note: "n"},
			},
			State: store.JobDone, Settled: at, Request: "req",
		}},
		{"dead", rawRecord{Job: rawJob{Delivery: d, DueAt: at, Attempts: -3, LastError: "bad"}, State: store.JobDead, Settled: at, Reason: "bad", Code: "400", Kind: store.DeadProcessing}},
		{"verdict only outcome", rawRecord{Job: rawJob{Delivery: d, Verdict: &forwarder.Verdict{}}, State: store.JobDone}},
	}
	for _, tt := range written {
		t.Run(tt.name, func(t *testing.T) {
			v, err := encodeRawRecord(tt.rec)
			if err != nil {
				t.Fatal(err)
			}
			if !sameTail(t, tailOf(t, v)) {
				t.Fatalf("recordTail refused the tail of %s", v)
			}
		})
	}
	others := []struct{ name, tail string }{
		{"space", `, "attempts":0,"due_at":"2026-03-02T09:30:00Z"},"state":"pending"}`},
		{"escaped", `,"attempts":0,"due_at":"2026-03-02T09:30:00Z","lease":"\u0041"},"state":"pending"}`},
		{"invalid UTF-8", `,"attempts":0,"due_at":"2026-03-02T09:30:00Z","lease":"` + "\xff" + `"},"state":"pending"}`},
		{"control byte", `,"attempts":0,"due_at":"2026-03-02T09:30:00Z","lease":"` + "\x01" + `"},"state":"pending"}`},
		{"exponent", `,"attempts":1e2,"due_at":"2026-03-02T09:30:00Z"},"state":"pending"}`},
		{"leading zero", `,"attempts":01,"due_at":"2026-03-02T09:30:00Z"},"state":"pending"}`},
		{"overflow", `,"attempts":9223372036854775808,"due_at":"2026-03-02T09:30:00Z"},"state":"pending"}`},
		{"other order", `,"due_at":"2026-03-02T09:30:00Z","attempts":0},"state":"pending"}`},
		{"bad time", `,"attempts":0,"due_at":"2026-03-02"},"state":"pending"}`},
		{"empty history", `,"attempts":0,"due_at":"2026-03-02T09:30:00Z","history":[]},"state":"pending"}`},
		{"unknown member", `,"attempts":0,"due_at":"2026-03-02T09:30:00Z","x":1},"state":"pending"}`},
		{"trailing", `,"attempts":0,"due_at":"2026-03-02T09:30:00Z"},"state":"pending"} `},
		{"unterminated", `,"attempts":0,"due_at":"2026-03-02T09:30:00Z"},"state":"pending`},
	}
	for _, tt := range others {
		t.Run(tt.name, func(t *testing.T) {
			if sameTail(t, []byte(tt.tail)) {
				t.Errorf("recordTail decoded %s, which encoding/json should", tt.tail)
			}
		})
	}
}

// FuzzRecordTail: whatever recordTail decodes, encoding/json decodes
// alike.
func FuzzRecordTail(f *testing.F) {
	f.Add(`,"attempts":1,"due_at":"2026-03-02T09:30:00Z","lease":"L"},"state":"pending"}`)
	f.Add(`,"attempts":-0,"due_at":"2026-03-02T09:30:00.000000001+05:30","last_error":"é","history":[{"at":"2026-03-02T09:30:00Z","took":12,"result":"retry","code":"c","error":"e","request_id":"r"},{"at":"2026-03-02T09:30:00Z","took":0,"result":"delivered"}],"verdict":{"outcome":"counted","reason":"r","note":"n"}},"state":"done","settled":"2026-03-02T09:31:00Z","reason":"r","code":"c","kind":"k","request":"q"}`)
	f.Fuzz(func(t *testing.T, tail string) { sameTail(t, []byte(tail)) })
}
