package redis_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// TestDoneRecordShrinks: a done job's record in the jobs hash keeps what
// is still read of its delivery, not its payload; one acknowledged under
// a poll keeps its payload until the poll is resolved, then shrinks.
func TestDoneRecordShrinks(t *testing.T) {
	srv := redistest.Start(t)
	opts, _ := testOptions()
	prefix := uniquePrefix()
	s := open(t, srv.URL(), opts, redis.Options{Prefix: prefix})
	c := client(t, srv)
	hget := func(id string) (v string, delivery int) {
		t.Helper()
		v, err := c.HGet(t.Context(), "{"+prefix+"}:jobs", id).Result()
		if err != nil {
			t.Fatalf("HGET %s = %v", id, err)
		}
		var r struct {
			Delivery string `json:"delivery"`
		}
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			t.Fatal(err)
		}
		return v, len(r.Delivery)
	}
	call := &forwarder.Call{Sid: "CA-size", Event: forwarder.EventComplete, StartDate: epoch.Add(-time.Minute)}
	ds := []forwarder.Delivery{storetest.GA4Delivery(call.Sid, "acked", call.StartDate), storetest.GA4Delivery(call.Sid, "polled", call.StartDate)}
	if err := s.Accept(t.Context(), call, ds); err != nil {
		t.Fatal(err)
	}
	pending, pendingDelivery := hget(ds[0].ID)
	jobs, err := s.Claim(t.Context(), 2)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("Claim = %d jobs, %v", len(jobs), err)
	}
	for i := range jobs {
		jobs[i].History = []store.Attempt{{At: epoch, Took: time.Second, Result: store.AttemptDelivered}}
	}
	polled := ds[1].ID
	p := store.Poll{RequestID: "req-1", Items: []store.PollItem{{DeliveryID: polled}}, DueAt: epoch}
	for _, err := range s.AckPolled(t.Context(), jobs, p) {
		if err != nil {
			t.Fatal(err)
		}
	}
	done, doneDelivery := hget(ds[0].ID)
	t.Logf("job record: pending %d bytes (delivery %d), done %d bytes (delivery %d, history of one attempt): %s",
		len(pending), pendingDelivery, len(done), doneDelivery, done)
	if doneDelivery >= pendingDelivery/2 || len(done) >= len(pending) || strings.Contains(done, "G-TEST000001") || strings.Contains(done, "1234567890.1700000000") {
		t.Fatalf("done record is %d bytes, delivery %d (pending %d, %d), want the delivery less than half, without payload: %s",
			len(done), doneDelivery, len(pending), pendingDelivery, done)
	}
	if v, _ := hget(polled); !strings.Contains(v, "G-TEST000001") {
		t.Fatalf("job acknowledged under a pending poll lost its payload: %s", v)
	}
	ps, err := s.ClaimPolls(t.Context(), 1)
	if err != nil || len(ps) != 1 {
		t.Fatalf("ClaimPolls = %d, %v", len(ps), err)
	}
	if err := s.ResolvePoll(t.Context(), ps[0], []forwarder.Verdict{{Outcome: forwarder.OutcomeCounted}}); err != nil {
		t.Fatal(err)
	}
	if v, n := hget(polled); n >= pendingDelivery/2 || strings.Contains(v, "G-TEST000001") || strings.Contains(v, "done_delivery") {
		t.Fatalf("job of a resolved poll is %d bytes (pending %d), want no payload: %s", len(v), len(pending), v)
	}
}
