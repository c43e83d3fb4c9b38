package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// The tests run the workers against the real embedded store, so what is
// checked is what a job looks like in the store once the workers are done
// with it. They never assert on elapsed time: they wait for a state (with a
// generous bound that only turns a hang into a failure) and, where a wait
// matters, read it from the job's DueAt under a clock the test moves.

// waitLimit bounds every wait for a state; it only fires when a test is
// broken, never on a slow machine.
const waitLimit = 30 * time.Second

// typeFake is the delivery type the fake senders are registered under.
const typeFake = "fake"

// countingQueue is the real store with its Claim calls counted, so a test
// can wait until the claimer has looked for work again.
type countingQueue struct {
	*bolt.Store
	claims atomic.Int64
}

func (q *countingQueue) Claim(ctx context.Context, max int) ([]store.Job, error) {
	q.claims.Add(1)
	return q.Store.Claim(ctx, max)
}

// openStore opens a fresh store in a temporary directory; now may be nil
// for the real clock.
func openStore(t *testing.T, lease time.Duration, now func() time.Time) *countingQueue {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), store.Options{Lease: lease, Now: now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return &countingQueue{Store: st}
}

// accept stores a call sid with one delivery per rule, of type typ.
func accept(t *testing.T, st *countingQueue, sid, typ string, rules ...string) []forwarder.Delivery {
	t.Helper()
	call := &forwarder.Call{Sid: sid, Event: forwarder.EventComplete, StartDate: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)}
	ds := make([]forwarder.Delivery, len(rules))
	for i, r := range rules {
		ds[i] = forwarder.Delivery{
			ID:          forwarder.DeliveryID(sid, r, "web"),
			CallSid:     sid,
			Rule:        r,
			Destination: "web",
			Type:        typ,
			CallTime:    call.StartDate,
		}
	}
	if err := st.Accept(context.Background(), call, ds); err != nil {
		t.Fatalf("accept %s: %v", sid, err)
	}
	return ds
}

// start runs d until the test ends or the returned stop is called; stop
// cancels Run and waits for it to return.
func start(t *testing.T, d *deliver.Deliverer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(waitLimit):
				t.Errorf("Run did not return within %v of its context being cancelled", waitLimit)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds; it fails the test when it does not
// within waitLimit, reporting what was awaited and the last state seen.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; last state: %s", waitLimit, what, state)
		}
		time.Sleep(time.Millisecond)
	}
}

// settled waits until no job is pending.
func settled(t *testing.T, st *countingQueue) store.Stats {
	t.Helper()
	var stats store.Stats
	waitFor(t, "no pending job", func() (bool, string) {
		var err error
		stats, err = st.Stats(context.Background())
		if err != nil {
			t.Fatalf("stats: %v", err)
		}
		return stats.Pending == 0, fmt.Sprintf("%+v", stats)
	})
	return stats
}

// onlyJob returns the single job of the call sid.
func onlyJob(t *testing.T, st *countingQueue, sid string) store.JobInfo {
	t.Helper()
	jobs, err := st.Jobs(context.Background(), sid)
	if err != nil {
		t.Fatalf("jobs %s: %v", sid, err)
	}
	if len(jobs) != 1 {
		t.Fatalf("call %s has %d jobs, want 1: %+v", sid, len(jobs), jobs)
	}
	return jobs[0]
}

// script is a sender that answers attempt n (from 0) with errs[n], and
// nil once errs is used up; it counts its calls.
type script struct {
	mu    sync.Mutex
	errs  []error
	calls int
}

func (s *script) Send(_ context.Context, _ forwarder.Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.calls
	s.calls++
	if n < len(s.errs) {
		return s.errs[n]
	}
	return nil
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestRunSettlesByOutcome(t *testing.T) {
	t.Parallel()
	down := forwarder.Transient("http_503", errors.New("service unavailable"))
	tests := []struct {
		name      string
		typ       string  // delivery type (typeFake unless testing a missing sender)
		errs      []error // what the sender answers, attempt by attempt
		wantState store.JobState
		wantTries int    // Attempts counted by the store
		wantSends int    // calls the sender saw
		wantError string // substring of the job's LastError ("" = none expected)
		wantCode  string // dead letter code, when dead
		// wantVerdict is the verdict stored with the job, as text ("" none).
		wantVerdict string
		// wantHistory is the job's attempts as "result code" (nil: one
		// "delivered" attempt).
		wantHistory []string
	}{
		{
			name: "success is done after one attempt", typ: typeFake,
			wantState: store.JobDone, wantTries: 1, wantSends: 1,
		},
		{
			name: "transient failures are retried until success", typ: typeFake,
			errs:      []error{down, down},
			wantState: store.JobDone, wantTries: 3, wantSends: 3, wantError: "transient http_503: service unavailable",
			wantHistory: []string{"retry http_503", "retry http_503", "delivered "},
		},
		{
			name: "unclassified failure is retried", typ: typeFake,
			errs:      []error{errors.New("connection reset")},
			wantState: store.JobDone, wantTries: 2, wantSends: 2, wantError: "unclassified: connection reset",
		},
		{
			name: "retry-after is retried", typ: typeFake,
			errs:      []error{forwarder.RetryAfter("http_429", time.Millisecond, errors.New("slow down"))},
			wantState: store.JobDone, wantTries: 2, wantSends: 2, wantError: "retry_after http_429",
		},
		{
			name: "permanent failure is dead-lettered at once", typ: typeFake,
			errs:      []error{forwarder.Permanent("http_400", errors.New("invalid client_id"))},
			wantState: store.JobDead, wantTries: 1, wantSends: 1,
			wantError: "permanent http_400: invalid client_id", wantCode: "http_400",
			wantHistory: []string{"dead http_400"},
		},
		{
			name: "a conversion Google's reply refused is dead-lettered as rejected", typ: typeFake,
			errs:      []error{forwarder.Rejected("EXPIRED_EVENT", errors.New("conversions[0]: too old"))},
			wantState: store.JobDead, wantTries: 1, wantSends: 1,
			wantError: "permanent EXPIRED_EVENT", wantCode: "EXPIRED_EVENT",
			wantHistory: []string{"dead EXPIRED_EVENT"}, wantVerdict: "rejected by Google: EXPIRED_EVENT",
		},
		{
			name: "schedule used up is dead-lettered", typ: typeFake,
			errs:      []error{down, down, down, down},
			wantState: store.JobDead, wantTries: 3, wantSends: 3,
			wantError: "gave up after 3 attempts: transient http_503: service unavailable", wantCode: "http_503",
			wantHistory: []string{"retry http_503", "retry http_503", "dead http_503"},
		},
		{
			name: "unknown delivery type is dead-lettered", typ: "carrier_pigeon",
			wantState: store.JobDead, wantTries: 1, wantSends: 0,
			wantError: `no sender for destination type "carrier_pigeon"`, wantCode: "no_sender",
			wantHistory: []string{"dead no_sender"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t, time.Minute, nil)
			sender := &script{errs: tt.errs}
			d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
				Workers:      2,
				PollInterval: 2 * time.Millisecond,
				Policy:       deliver.Policy{Schedule: []time.Duration{5 * time.Millisecond, 10 * time.Millisecond}},
			})
			accept(t, st, "CA1", tt.typ, "rule")
			start(t, d)

			stats := settled(t, st)
			job := onlyJob(t, st, "CA1")
			if job.State != tt.wantState {
				t.Errorf("state = %q, want %q (job %+v)", job.State, tt.wantState, job.Job)
			}
			if job.Job.Attempts != tt.wantTries {
				t.Errorf("Attempts = %d, want %d", job.Job.Attempts, tt.wantTries)
			}
			if got := sender.count(); got != tt.wantSends {
				t.Errorf("sender called %d times, want %d", got, tt.wantSends)
			}
			if !strings.Contains(job.Job.LastError, tt.wantError) || (tt.wantError == "") != (job.Job.LastError == "") {
				t.Errorf("LastError = %q, want it to contain %q", job.Job.LastError, tt.wantError)
			}
			if job.Job.Lease != "" {
				t.Errorf("settled job still holds lease %q", job.Job.Lease)
			}
			if v := job.Job.Verdict; v == nil && tt.wantVerdict != "" || v != nil && v.String() != tt.wantVerdict {
				t.Errorf("Verdict = %+v, want %q", v, tt.wantVerdict)
			}
			wantHistory := tt.wantHistory
			if wantHistory == nil && len(tt.errs) == 0 {
				wantHistory = []string{"delivered "}
			} else if wantHistory == nil {
				wantHistory = slices.Repeat([]string{"retry " + forwarder.Classify(tt.errs[0]).Code}, tt.wantTries-1)
				wantHistory = append(wantHistory, "delivered ")
			}
			var history []string
			for _, a := range job.Job.History {
				history = append(history, a.Result+" "+a.Code)
				failed := a.Result != store.AttemptDelivered
				if a.At.IsZero() || failed != (a.Error != "") || !strings.Contains(job.Job.LastError, a.Error) {
					t.Errorf("attempt %+v: want its time, and for a failure its reason (the job's last error: %q)", a, job.Job.LastError)
				}
			}
			if !slices.Equal(history, wantHistory) {
				t.Errorf("history %q, want %q", history, wantHistory)
			}

			wantDone, wantDead := 0, 0
			if tt.wantState == store.JobDone {
				wantDone = 1
			} else {
				wantDead = 1
			}
			if stats.Done != wantDone || stats.Dead != wantDead {
				t.Errorf("stats done=%d dead=%d, want done=%d dead=%d", stats.Done, stats.Dead, wantDone, wantDead)
			}
			dead, err := st.DeadLetters(context.Background(), 0)
			if err != nil {
				t.Fatalf("dead letters: %v", err)
			}
			if len(dead) != wantDead {
				t.Fatalf("%d dead letters, want %d: %+v", len(dead), wantDead, dead)
			}
			if wantDead == 1 {
				if !strings.Contains(dead[0].Reason, tt.wantError) {
					t.Errorf("dead letter reason = %q, want it to contain %q", dead[0].Reason, tt.wantError)
				}
				if dead[0].Code != tt.wantCode {
					t.Errorf("dead letter code = %q, want %q", dead[0].Code, tt.wantCode)
				}
			}
		})
	}
}

// TestRetryWaitsUntilDue checks, under a clock that stands still, that a
// failed job is rescheduled exactly when the policy says and is not sent
// again while the claimer keeps looking, then is sent once the clock
// reaches its DueAt.
func TestRetryWaitsUntilDue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		attempts int           // failures before the one under test
		wantWait time.Duration // DueAt - now after the failure
	}{
		{"transient waits the first step", forwarder.Transient("network", errors.New("refused")), 0, time.Minute},
		{"transient waits the next step", forwarder.Transient("network", errors.New("refused")), 1, 10 * time.Minute},
		{"retry-after waits as asked, past the schedule", forwarder.RetryAfter("TOO_RECENT_CALL", 6*time.Hour, nil), 0, 6 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := storetest.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
			st := openStore(t, 2*time.Minute, clock.Now)
			accept(t, st, "CA1", typeFake, "rule")
			ctx := context.Background()
			// Bring the job to the attempt under test by hand.
			for range tt.attempts {
				jobs, err := st.Claim(ctx, 1)
				if err != nil || len(jobs) != 1 {
					t.Fatalf("claim: %d jobs, %v; want 1 job", len(jobs), err)
				}
				if err := st.Retry(ctx, jobs[0], clock.Now(), "earlier failure"); err != nil {
					t.Fatalf("retry: %v", err)
				}
			}

			errs := []error{tt.err}
			sender := &script{errs: errs}
			d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
				Workers:      2,
				PollInterval: time.Millisecond,
				Now:          clock.Now,
				Policy: deliver.Policy{
					Schedule: []time.Duration{time.Minute, 10 * time.Minute, time.Hour},
					Jitter:   0, // exact waits; Policy's own test covers the jitter
				},
			})
			start(t, d)

			var job store.JobInfo
			waitFor(t, "the failed attempt to be settled", func() (bool, string) {
				job = onlyJob(t, st, "CA1")
				return job.Job.Attempts == tt.attempts+1, fmt.Sprintf("%+v", job)
			})
			if job.State != store.JobPending {
				t.Fatalf("state after a %v = %q, want %q", tt.err, job.State, store.JobPending)
			}
			if got := job.Job.DueAt.Sub(clock.Now()); got != tt.wantWait {
				t.Errorf("due in %v, want %v", got, tt.wantWait)
			}
			if !strings.Contains(job.Job.LastError, tt.err.Error()) {
				t.Errorf("LastError = %q, want it to contain %q", job.Job.LastError, tt.err.Error())
			}

			// Let the claimer look for work many times: the job is not due.
			seen := st.claims.Load()
			waitFor(t, "the claimer to poll 20 more times", func() (bool, string) {
				n := st.claims.Load()
				return n >= seen+20, fmt.Sprintf("%d claims", n-seen)
			})
			if got := sender.count(); got != 1 {
				t.Fatalf("sender called %d times before the job was due, want 1", got)
			}

			clock.Advance(tt.wantWait - time.Nanosecond)
			seen = st.claims.Load()
			waitFor(t, "the claimer to poll 20 more times", func() (bool, string) {
				n := st.claims.Load()
				return n >= seen+20, fmt.Sprintf("%d claims", n-seen)
			})
			if got := sender.count(); got != 1 {
				t.Fatalf("sender called %d times 1ns before the job was due, want 1", got)
			}

			clock.Advance(time.Nanosecond)
			d.Notify()
			settled(t, st)
			job = onlyJob(t, st, "CA1")
			if job.State != store.JobDone || sender.count() != 2 {
				t.Errorf("once due: state %q after %d sends, want %q after 2", job.State, sender.count(), store.JobDone)
			}
		})
	}
}
