package deliver_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/deliver"
)

// fakeIntake reports the webhooks in flight the test sets, and counts how
// often the claimer looked.
type fakeIntake struct {
	inFlight atomic.Int64
	looks    atomic.Int64
}

func (f *fakeIntake) InFlight() int {
	f.looks.Add(1)
	return int(f.inFlight.Load())
}

// yieldLog records the claimer's yields (and ignores deliveries).
type yieldLog struct {
	mu   sync.Mutex
	took []time.Duration
}

func (y *yieldLog) Delivery(forwarder.Delivery, string, error, time.Duration) {}

func (y *yieldLog) Yielded(took time.Duration) {
	y.mu.Lock()
	defer y.mu.Unlock()
	y.took = append(y.took, took)
}

func (y *yieldLog) yields() []time.Duration {
	y.mu.Lock()
	defer y.mu.Unlock()
	return append([]time.Duration(nil), y.took...)
}

// TestYieldOnlyToBusyIntake: the claimer yields only when intake has at
// least YieldAt webhooks in progress, and not at all when yielding is off.
func TestYieldOnlyToBusyIntake(t *testing.T) {
	for _, tc := range []struct {
		name       string
		inFlight   int
		yieldAt    int
		noIntake   bool
		wantYields bool
	}{
		{name: "quiet intake", inFlight: 3, yieldAt: 4},
		{name: "idle intake", inFlight: 0},
		{name: "busy intake", inFlight: 4, yieldAt: 4, wantYields: true},
		{name: "busy intake, default threshold", inFlight: deliver.DefaultYieldAt, wantYields: true},
		{name: "yielding off", inFlight: 100, yieldAt: -1},
		{name: "no intake", inFlight: 100, noIntake: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t, time.Minute, nil)
			in := &fakeIntake{}
			in.inFlight.Store(int64(tc.inFlight))
			log := &yieldLog{}
			s := &script{}
			cfg := deliver.Config{Workers: 1, PollInterval: 5 * time.Millisecond, YieldAt: tc.yieldAt, MaxYield: 10 * time.Millisecond, Intake: in, Recorder: log}
			if tc.noIntake {
				cfg.Intake = nil
			}
			d := deliver.New(st, map[string]deliver.Sender{typeFake: s}, cfg)
			accept(t, st, "CA1", typeFake, "r1")
			start(t, d)
			settled(t, st)
			if got := len(log.yields()) > 0; got != tc.wantYields {
				t.Errorf("yielded %v (%v), want yields: %v", got, log.yields(), tc.wantYields)
			}
			if s.count() != 1 {
				t.Errorf("sent %d times, want 1", s.count())
			}
		})
	}
}

// TestClaimerWaitsWhileIntakeIsBusy: with a bound longer than the test,
// the claimer claims nothing while intake stays busy, and claims (and
// delivers) as soon as it is not.
func TestClaimerWaitsWhileIntakeIsBusy(t *testing.T) {
	st := openStore(t, time.Minute, nil)
	in := &fakeIntake{}
	in.inFlight.Store(50)
	log := &yieldLog{}
	s := &script{}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: s}, deliver.Config{
		Workers: 1, PollInterval: 5 * time.Millisecond, MaxYield: time.Hour, Intake: in, Recorder: log,
	})
	accept(t, st, "CA1", typeFake, "r1")
	start(t, d)
	// The claimer has looked at intake many times over, and still waits.
	waitFor(t, "the claimer to look at a busy intake 20 times", func() (bool, string) {
		n := in.looks.Load()
		return n >= 20, fmt.Sprintf("looks: %d", n)
	})
	if n := st.claims.Load(); n != 0 {
		t.Fatalf("claimed %d times while intake was busy, want 0", n)
	}
	if s.count() != 0 {
		t.Fatalf("sent %d deliveries while intake was busy, want 0", s.count())
	}
	in.inFlight.Store(0)
	settled(t, st)
	if s.count() != 1 {
		t.Errorf("sent %d times once intake was quiet, want 1", s.count())
	}
	if y := log.yields(); len(y) != 1 {
		t.Errorf("yields %v, want exactly one (the one that ended when intake went quiet)", y)
	}
}

// TestYieldIsBounded: under an intake that never lets up, every claim
// waits its full MaxYield and no more (the claimer looks at intake at
// most once per step of a tenth of the bound, then claims anyway), so
// every delivery is still made.
func TestYieldIsBounded(t *testing.T) {
	const maxYield = 20 * time.Millisecond
	st := openStore(t, time.Minute, nil)
	in := &fakeIntake{}
	in.inFlight.Store(1000)
	log := &yieldLog{}
	s := &script{}
	d := deliver.New(st, map[string]deliver.Sender{typeFake: s}, deliver.Config{
		Workers: 1, PollInterval: 5 * time.Millisecond, MaxYield: maxYield, Intake: in, Recorder: log,
	})
	for _, sid := range []string{"CA1", "CA2", "CA3"} {
		accept(t, st, sid, typeFake, "r1")
	}
	start(t, d)
	settled(t, st)
	// Looks first: yields recorded after them only loosen the check below.
	looks := in.looks.Load()
	if s.count() != 3 {
		t.Errorf("sent %d deliveries under a busy intake, want 3", s.count())
	}
	yields := log.yields()
	if len(yields) < 2 {
		t.Fatalf("yields %v, want one before each claim (at least 2: the claim of each job after the first, at least)", yields)
	}
	for _, took := range yields {
		if took < maxYield {
			t.Errorf("yielded %v to an intake that stayed busy, want the whole bound %v", took, maxYield)
		}
	}
	// A first look, then at most one per step (a tenth of the bound):
	// timers never fire early, so more looks would mean a longer wait. One
	// yield may be under way (unrecorded) when looks was read.
	if most := int64(len(yields)+1) * (1 + 10); looks > most {
		t.Errorf("looked at intake %d times over %d yields, want at most %d: a yield outlasted its bound", looks, len(yields), most)
	}
}
