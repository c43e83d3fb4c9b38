package storetest

import (
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

// settlement is one way to settle a claimed job.
type settlement struct {
	name   string
	settle func(e *env, j store.Job) error
}

var settlements = []settlement{
	{"ack", func(e *env, j store.Job) error { return e.s.Ack(e.ctx, j) }},
	{"ack many", func(e *env, j store.Job) error { return e.s.AckMany(e.ctx, []store.Job{j})[0] }},
	{"retry", func(e *env, j store.Job) error {
		return e.s.Retry(e.ctx, j, e.clock.Now().Add(time.Hour), "timeout")
	}},
	{"bury", func(e *env, j store.Job) error { return e.s.Bury(e.ctx, j, "invalid", "400") }},
}

// staleCase makes a job's lease stale: it returns the stale job to settle
// and the job's current lease ("" when the job is not claimed).
type staleCase struct {
	name  string
	stale func(t *testing.T, e *env, id string, s settlement) (stale store.Job, current string)
}

var staleCases = []staleCase{
	{"lease superseded", func(t *testing.T, e *env, id string, _ settlement) (store.Job, string) {
		first := e.claimOne(t, id)
		e.clock.Advance(lease)
		second := e.claimOne(t, id)
		return first, second.Lease
	}},
	{"settled already", func(t *testing.T, e *env, id string, s settlement) (store.Job, string) {
		j := e.claimOne(t, id)
		if err := s.settle(e, j); err != nil {
			t.Fatalf("first %s = %v, want nil", s.name, err)
		}
		return j, ""
	}},
	{"never claimed", func(t *testing.T, e *env, id string, _ settlement) (store.Job, string) {
		return e.job(t, "CA-stale", id).Job, ""
	}},
	{"forged lease", func(t *testing.T, e *env, id string, _ settlement) (store.Job, string) {
		j := e.claimOne(t, id)
		current := j.Lease
		j.Lease = "forged"
		return j, current
	}},
	{"unknown job", func(t *testing.T, e *env, id string, _ settlement) (store.Job, string) {
		j := e.claimOne(t, id)
		j.Delivery.ID = deliveryID("CA-unknown", "r")
		j.Delivery.CallSid = "CA-unknown"
		return j, ""
	}},
}

// settleTests checks every settlement against every kind of stale lease.
var settleTests = func() []subtest {
	var out []subtest
	for _, c := range staleCases {
		for _, s := range settlements {
			out = append(out, subtest{"settle/" + s.name + "/" + c.name + " is lease lost", testSettleStale(c, s)})
		}
	}
	return out
}()

func testSettleStale(c staleCase, s settlement) func(t *testing.T, e *env) {
	return func(t *testing.T, e *env) {
		const sid = "CA-stale"
		id := deliveryID(sid, "r")
		e.accept(t, sid, "r")
		stale, current := c.stale(t, e, id, s)
		before := e.job(t, sid, id)

		wantErr(t, s.name+" with a stale lease", s.settle(e, stale), store.ErrLeaseLost)
		wantSameJSON(t, "job after the lost "+s.name, e.job(t, sid, id), before)
		if current != "" {
			stale.Lease = current
			if err := s.settle(e, stale); err != nil {
				t.Fatalf("%s with the current lease = %v, want nil", s.name, err)
			}
		}
	}
}
