package storetest

import (
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

var claimTests = []subtest{
	{"claim/oldest due first", testClaimOrder},
	{"claim/respects max", testClaimMax},
	{"claim/lease hides the job until it ends", testClaimLease},
	{"claim/retry schedules the job", testClaimRetry},
}

func testClaimOrder(t *testing.T, e *env) {
	for _, sid := range []string{"CA-1", "CA-2", "CA-3"} {
		e.accept(t, sid, "r")
		e.clock.Advance(time.Second)
	}
	jobs := e.claim(t, 10)
	wantIDs(t, "first Claim", jobIDs(jobs), []string{deliveryID("CA-1", "r"), deliveryID("CA-2", "r"), deliveryID("CA-3", "r")})

	// Retries reorder them: the earliest retry comes first.
	now := e.clock.Now()
	for i, after := range []time.Duration{30 * time.Second, 20 * time.Second, 10 * time.Second} {
		if err := e.s.Retry(e.ctx, jobs[i], now.Add(after), "timeout"); err != nil {
			t.Fatalf("Retry %s = %v, want nil", jobs[i].Delivery.ID, err)
		}
	}
	e.clock.Advance(time.Minute)
	wantIDs(t, "Claim after the retries", jobIDs(e.claim(t, 10)), []string{deliveryID("CA-3", "r"), deliveryID("CA-2", "r"), deliveryID("CA-1", "r")})
}

func testClaimMax(t *testing.T, e *env) {
	e.accept(t, "CA-max", "r1", "r2", "r3", "r4", "r5")
	for _, max := range []int{0, -1} {
		if jobs := e.claim(t, max); len(jobs) != 0 {
			t.Fatalf("Claim(%d) = %v, want none", max, jobIDs(jobs))
		}
	}
	seen := map[string]bool{}
	for i, want := range []int{2, 2, 1, 0} {
		jobs := e.claim(t, 2)
		if len(jobs) != want {
			t.Fatalf("Claim(2) #%d = %v, want %d jobs", i+1, jobIDs(jobs), want)
		}
		for _, j := range jobs {
			if seen[j.Delivery.ID] {
				t.Fatalf("Claim(2) #%d handed out %s a second time", i+1, j.Delivery.ID)
			}
			seen[j.Delivery.ID] = true
		}
	}
	e.wantStats(t, store.Stats{Calls: 1, Pending: 5})
}

func testClaimLease(t *testing.T, e *env) {
	e.accept(t, "CA-lease", "r")
	id := deliveryID("CA-lease", "r")
	first := e.claimOne(t, id)
	if first.Lease == "" {
		t.Fatal("claimed job has no lease")
	}
	wantTime(t, "claimed job DueAt", first.DueAt, epoch.Add(lease))
	if first.Attempts != 0 {
		t.Fatalf("claimed job Attempts = %d, want 0", first.Attempts)
	}
	e.wantNoClaim(t)
	e.clock.Advance(lease - time.Nanosecond)
	e.wantNoClaim(t)
	e.wantStats(t, store.Stats{Calls: 1, Pending: 1})

	// The lease ended without a settlement: the job comes back by itself,
	// under a new lease, its attempts untouched.
	e.clock.Advance(time.Nanosecond)
	second := e.claimOne(t, id)
	if second.Lease == "" || second.Lease == first.Lease {
		t.Fatalf("reclaimed job lease = %q, want a new one (first was %q)", second.Lease, first.Lease)
	}
	wantTime(t, "reclaimed job DueAt", second.DueAt, e.clock.Now().Add(lease))
	if second.Attempts != 0 {
		t.Fatalf("reclaimed job Attempts = %d, want 0", second.Attempts)
	}
	wantErr(t, "Ack with the first lease", e.s.Ack(e.ctx, first), store.ErrLeaseLost)
	if err := e.s.Ack(e.ctx, second); err != nil {
		t.Fatalf("Ack with the current lease = %v, want nil", err)
	}
	e.wantStats(t, store.Stats{Calls: 1, Done: 1})
}

func testClaimRetry(t *testing.T, e *env) {
	const sid = "CA-retry"
	id := deliveryID(sid, "r")
	e.accept(t, sid, "r")
	j := e.claimOne(t, id)
	at := e.clock.Now().Add(10 * time.Minute)
	if err := e.s.Retry(e.ctx, j, at, "HTTP 503"); err != nil {
		t.Fatalf("Retry = %v, want nil", err)
	}
	info := e.job(t, sid, id)
	wantTime(t, "retried job DueAt", info.Job.DueAt, at)
	if info.Job.Lease != "" {
		t.Fatalf("retried job Lease = %q, want none", info.Job.Lease)
	}

	e.clock.Advance(10*time.Minute - time.Nanosecond)
	e.wantNoClaim(t)
	e.clock.Advance(time.Nanosecond)
	j = e.claimOne(t, id)
	if j.Attempts != 1 || j.LastError != "HTTP 503" {
		t.Fatalf("job after one retry: Attempts %d, LastError %q; want 1, %q", j.Attempts, j.LastError, "HTTP 503")
	}

	// A retry may be due at once; the reason is replaced.
	if err := e.s.Retry(e.ctx, j, e.clock.Now(), "timeout"); err != nil {
		t.Fatalf("second Retry = %v, want nil", err)
	}
	j = e.claimOne(t, id)
	if j.Attempts != 2 || j.LastError != "timeout" {
		t.Fatalf("job after two retries: Attempts %d, LastError %q; want 2, %q", j.Attempts, j.LastError, "timeout")
	}
	if err := e.s.Ack(e.ctx, j); err != nil {
		t.Fatalf("Ack = %v, want nil", err)
	}
	info = e.job(t, sid, id)
	if info.State != store.JobDone || info.Job.Attempts != 3 {
		t.Fatalf("acked job: %s with %d attempts, want done with 3", info.State, info.Job.Attempts)
	}
}
