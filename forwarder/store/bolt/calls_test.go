package bolt

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// TestRecordState: the state read from an encoded record is the one
// decoding finds, whatever the delivery's strings hold.
func TestRecordState(t *testing.T) {
	tricky := forwarder.Delivery{ID: "CA1/r/web", CallSid: "CA1", Rule: `r "}`, Destination: "web",
		GA4: &forwarder.GA4Event{Name: `x","state":"dead`, Params: map[string]any{"state": "dead", "q": `{"a":[1,"}"]}\`}}}
	for _, state := range []store.JobState{store.JobPending, store.JobDone, store.JobDead, store.JobDropped} {
		rec := record{Job: store.Job{Delivery: tricky, DueAt: time.Unix(5, 0), History: []store.Attempt{{Error: `"state":"x"`}}},
			State: state, Reason: "why", Settled: time.Unix(7, 0)}
		v, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := recordState(v)
		if !ok || got != string(state) {
			t.Errorf("recordState of a %s record = %q, %v", state, got, ok)
		}
		raw, err := encodeRawRecord(rawRecord{Job: rawJob{Delivery: json.RawMessage(`{"id":"CA1/r/web","rule":"}{"}`)}, State: state})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := recordState(raw); !ok || got != string(state) {
			t.Errorf("recordState of a raw %s record = %q, %v", state, got, ok)
		}
	}
	for _, v := range []string{`{"state":"dead","job":{}}`, `{"job":{"delivery":{}`, `[]`, `{"job":{},"state":"de\"ad"}`} {
		if got, ok := recordState([]byte(v)); ok {
			t.Errorf("recordState(%s) = %q, true; want not ok", v, got)
		}
	}
}
