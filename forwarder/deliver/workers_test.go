package deliver_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/logtest"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// The worker pool's life: many jobs at once, a graceful stop, waking on
// Notify, and a store that fails under it.

// TestEachJobSentOnce runs many jobs through many workers: each is sent
// exactly once and no more sends run at a time than there are workers.
func TestEachJobSentOnce(t *testing.T) {
	t.Parallel()
	const (
		calls   = 50
		perCall = 10
		workers = 8
	)
	st := openStore(t, time.Minute, nil)
	var (
		mu       sync.Mutex
		sent     = map[string]int{}
		inFlight int
		maxSeen  int
	)
	sender := deliver.SenderFunc(func(_ context.Context, dl forwarder.Delivery) error {
		mu.Lock()
		sent[dl.ID]++
		inFlight++
		maxSeen = max(maxSeen, inFlight)
		mu.Unlock()
		time.Sleep(100 * time.Microsecond) // let sends overlap
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	})
	var want []string
	for i := range calls {
		rules := make([]string, perCall)
		for j := range rules {
			rules[j] = fmt.Sprintf("rule%02d", j)
		}
		for _, dl := range accept(t, st, fmt.Sprintf("CA%03d", i), typeFake, rules...) {
			want = append(want, dl.ID)
		}
	}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers:      workers,
		PollInterval: 2 * time.Millisecond,
	})
	start(t, d)

	stats := settled(t, st)
	if stats.Done != calls*perCall || stats.Dead != 0 {
		t.Errorf("stats %+v, want %d done and none dead", stats, calls*perCall)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sent) != len(want) {
		t.Errorf("%d distinct deliveries sent, want %d", len(sent), len(want))
	}
	for _, id := range want {
		if sent[id] != 1 {
			t.Errorf("delivery %s sent %d times, want once", id, sent[id])
		}
	}
	if maxSeen > workers {
		t.Errorf("%d sends ran at once, want at most %d (Workers)", maxSeen, workers)
	}
}

// TestStopWaitsForSendsInFlight cancels Run while every worker is in a
// send: Run returns only after those sends finished and were settled, their
// context was not cancelled by the shutdown, and no new job was claimed.
func TestStopWaitsForSendsInFlight(t *testing.T) {
	t.Parallel()
	const workers = 3
	st := openStore(t, time.Minute, nil)
	started := make(chan string, workers+1)
	release := make(chan struct{})
	var ctxErrs []error
	var mu sync.Mutex
	sender := deliver.SenderFunc(func(ctx context.Context, dl forwarder.Delivery) error {
		started <- dl.ID
		<-release
		mu.Lock()
		ctxErrs = append(ctxErrs, ctx.Err())
		mu.Unlock()
		return nil
	})
	accept(t, st, "CA1", typeFake, "a", "b", "c", "d")
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
		Workers:      workers,
		PollInterval: time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for range workers {
		select {
		case <-started:
		case <-time.After(waitLimit):
			t.Fatalf("fewer than %d sends started within %v", workers, waitLimit)
		}
	}

	cancel()
	select {
	case err := <-done:
		close(release)
		t.Fatalf("Run returned (%v) while %d sends were in flight, want it to wait for them", err, workers)
	default:
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %v after the sends in flight finished", waitLimit)
	}

	// Everything below was settled before Run returned.
	stats, err := st.Stats(context.Background())
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if stats.Done != workers || stats.Pending != 1 {
		t.Errorf("after Run returned: %+v, want %d done (the sends in flight) and 1 pending (never claimed)", stats, workers)
	}
	jobs, err := st.Jobs(context.Background(), "CA1")
	if err != nil {
		t.Fatalf("jobs: %v", err)
	}
	for _, j := range jobs {
		if j.State == store.JobPending && (j.Job.Lease != "" || j.Job.Attempts != 0) {
			t.Errorf("job %s was claimed after the stop: %+v", j.Job.Delivery.ID, j.Job)
		}
	}
	if len(started) != 0 {
		t.Errorf("a send started after the stop: %s", <-started)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, err := range ctxErrs {
		if err != nil {
			t.Errorf("send %d saw its context end with %v, want it left running by the shutdown", i, err)
		}
	}
}

// TestNotifyWakesIdleClaimer: with an hour between polls, a job stored
// after the claimer went idle is sent as soon as Notify is called.
func TestNotifyWakesIdleClaimer(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, nil)
	sent := make(chan string, 1)
	sender := deliver.SenderFunc(func(_ context.Context, dl forwarder.Delivery) error {
		sent <- dl.ID
		return nil
	})
	d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{PollInterval: time.Hour})
	start(t, d)
	waitFor(t, "the first claim", func() (bool, string) {
		n := st.claims.Load()
		return n >= 1, fmt.Sprintf("%d claims", n)
	})

	ds := accept(t, st, "CA1", typeFake, "rule")
	d.Notify()
	d.Notify() // a second notification while one is pending must not block
	select {
	case id := <-sent:
		if id != ds[0].ID {
			t.Errorf("sent %q, want %q", id, ds[0].ID)
		}
	case <-time.After(waitLimit):
		t.Fatalf("job not sent within %v of Notify (poll interval 1h): Notify did not wake the claimer", waitLimit)
	}
	settled(t, st)
}

// TestClaimFailureBacksOff runs the workers on a closed store: Claim fails
// every time, the claimer backs off instead of spinning, logs the failure,
// and Run still returns when cancelled.
func TestClaimFailureBacksOff(t *testing.T) {
	t.Parallel()
	st := openStore(t, time.Minute, nil)
	if err := st.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	var logs logtest.Buffer
	d := deliver.New(st, nil, deliver.Config{
		PollInterval: time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
	})
	stop := start(t, d)
	waitFor(t, "three failed claims", func() (bool, string) {
		n := st.claims.Load()
		return n >= 3, fmt.Sprintf("%d claims", n)
	})
	// The back-off doubles up to 30 poll intervals (30ms here); 200ms of
	// spinning would be tens of thousands of claims.
	time.Sleep(200 * time.Millisecond)
	stop()
	if n := st.claims.Load(); n > 100 {
		t.Errorf("%d claims against a failing store in about 200ms, want a back-off (at most ~15)", n)
	}
	if !strings.Contains(logs.String(), "claim failed") {
		t.Errorf("log = %q, want it to report the failed claim", logs.String())
	}
}

// TestSettleFailures covers a send whose settlement is refused: the lease
// was taken over meanwhile (the other holder decides), or the store failed
// (the job comes back after its lease). Neither stops the workers.
func TestSettleFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		during  func(t *testing.T, st *countingQueue, clock *storetest.Clock) // runs inside the send
		wantLog string
	}{
		{
			name: "lease lost",
			during: func(t *testing.T, st *countingQueue, clock *storetest.Clock) {
				clock.Advance(2 * time.Minute) // past the lease
				jobs, err := st.Store.Claim(context.Background(), 1)
				if err != nil || len(jobs) != 1 {
					t.Errorf("take over the job: %d jobs, %v; want 1", len(jobs), err)
				}
			},
			wantLog: "lease lost before settling",
		},
		{
			name: "store failed",
			during: func(t *testing.T, st *countingQueue, _ *storetest.Clock) {
				if err := st.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			},
			wantLog: "settle failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := storetest.NewClock(time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC))
			st := openStore(t, time.Minute, clock.Now)
			accept(t, st, "CA1", typeFake, "rule")
			var logs logtest.Buffer
			var once sync.Once
			sender := deliver.SenderFunc(func(context.Context, forwarder.Delivery) error {
				once.Do(func() { tt.during(t, st, clock) })
				return nil
			})
			d := deliver.New(st, map[string]deliver.Sender{typeFake: sender}, deliver.Config{
				Workers:      1,
				PollInterval: time.Millisecond,
				Now:          clock.Now,
				Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
			})
			stop := start(t, d)
			waitFor(t, "the settle failure to be logged", func() (bool, string) {
				return strings.Contains(logs.String(), tt.wantLog), logs.String()
			})
			stop()
		})
	}
}
