package emulator_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// statusCounts posts n valid requests one after another and counts the
// answers by status.
func statusCounts(t *testing.T, s *emulator.Server, n int) map[int]int {
	t.Helper()
	counts := map[int]int{}
	for range n {
		rec := serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, validBody())
		counts[rec.Code]++
		if rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("429 without Retry-After: 1 (got %q)", rec.Header().Get("Retry-After"))
		}
	}
	return counts
}

func TestFaultRates(t *testing.T) {
	const n = 2000
	faults := emulator.Faults{ErrorRate: 0.2, RateLimitRate: 0.1, TimeoutRate: 0.05, Timeout: time.Nanosecond}
	s := newServer(emulator.Options{Seed: 42, Faults: faults})
	got := statusCounts(t, s, n)

	// The exact counts for seed 42: math/rand's stream for a seed is fixed.
	want := map[int]int{500: 194, 503: 221, 429: 223, 504: 104, 204: 1258}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("status counts for seed 42: want %v, got %v", want, got)
	}
	// And they honour the rates, roughly.
	for _, c := range []struct {
		name string
		n    int
		rate float64
	}{
		{"5xx", got[500] + got[503], faults.ErrorRate},
		{"429", got[429], faults.RateLimitRate},
		{"504", got[504], faults.TimeoutRate},
	} {
		if r := float64(c.n) / n; math.Abs(r-c.rate) > 0.03 {
			t.Errorf("%s rate: want about %.2f, got %.3f", c.name, c.rate, r)
		}
	}
	if kept := len(s.GA4Events()); kept != got[204] {
		t.Errorf("faulted requests must record nothing: want %d events (the 204s), got %d", got[204], kept)
	}
	if d := len(s.GA4Dropped()); d != 0 {
		t.Errorf("want nothing dropped, got %d", d)
	}
}

func TestFaultsAreReproducible(t *testing.T) {
	faults := emulator.Faults{ErrorRate: 0.3, RateLimitRate: 0.2}
	first := statusCounts(t, newServer(emulator.Options{Seed: 7, Faults: faults}), 500)

	t.Run("after Reset", func(t *testing.T) {
		s := newServer(emulator.Options{Seed: 7, Faults: faults})
		statusCounts(t, s, 123)
		s.SetFaults(emulator.Faults{ErrorRate: 1})
		s.Reset()
		if got := statusCounts(t, s, 500); !reflect.DeepEqual(got, first) {
			t.Errorf("want the same counts as a new server %v, got %v", first, got)
		}
	})
	t.Run("concurrent requests", func(t *testing.T) {
		s := newServer(emulator.Options{Seed: 7, Faults: faults})
		srv := httptest.NewServer(s.Handler())
		defer srv.Close()
		var mu sync.Mutex
		got := map[int]int{}
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				for range 100 {
					resp, err := srv.Client().Post(srv.URL+"/mp/collect"+validQuery, "application/json", strings.NewReader(validBody()))
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					mu.Lock()
					got[resp.StatusCode]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if !reflect.DeepEqual(got, first) {
			t.Errorf("want the same counts whatever the interleaving %v, got %v", first, got)
		}
	})
}

func TestFaultsApplyToDebugToo(t *testing.T) {
	s := newServer(emulator.Options{Faults: emulator.Faults{ErrorRate: 1}})
	rec := serve(s.Handler(), http.MethodPost, "/debug/mp/collect"+validQuery, validBody())
	if rec.Code != http.StatusInternalServerError && rec.Code != http.StatusServiceUnavailable {
		t.Errorf("debug with ErrorRate 1: want 500 or 503, got %d", rec.Code)
	}
	if rec := serve(s.Handler(), http.MethodGet, "/emulator/faults", ""); rec.Code != http.StatusOK {
		t.Errorf("control endpoints are never faulted: want 200, got %d", rec.Code)
	}
}

func TestTimeoutFaultGivesUpWithTheClient(t *testing.T) {
	s := newServer(emulator.Options{Faults: emulator.Faults{TimeoutRate: 1, Timeout: time.Hour}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/mp/collect"+validQuery, strings.NewReader(validBody()))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req) // returns at once: the client is gone
	if rec.Body.Len() != 0 || len(s.GA4Events()) != 0 {
		t.Errorf("want no answer and nothing recorded, got %d %q and %d events", rec.Code, rec.Body, len(s.GA4Events()))
	}
}

// TestLostReplyFault: a request whose reply is lost is recorded as
// Google would have kept it, marked so, and answered only with a 504
// after the hold (or not at all once the client gave up); a timeout
// fault records nothing.
func TestLostReplyFault(t *testing.T) {
	tests := []struct {
		name       string
		faults     emulator.Faults
		wantEvents int
		wantLost   bool
	}{
		{"lost reply", emulator.Faults{LostReplyRate: 1, Timeout: time.Millisecond}, 1, true},
		{"timeout", emulator.Faults{TimeoutRate: 1, Timeout: time.Millisecond}, 0, false},
		{"none", emulator.Faults{}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(emulator.Options{Faults: tt.faults})
			rec := serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, validBody())
			want := http.StatusNoContent
			if tt.faults != (emulator.Faults{}) {
				want = http.StatusGatewayTimeout
			}
			if rec.Code != want {
				t.Errorf("status %d, want %d", rec.Code, want)
			}
			evs := s.GA4Events()
			if len(evs) != tt.wantEvents {
				t.Fatalf("%d events recorded, want %d", len(evs), tt.wantEvents)
			}
			for _, ev := range evs {
				if ev.ReplyLost != tt.wantLost {
					t.Errorf("event ReplyLost = %v, want %v", ev.ReplyLost, tt.wantLost)
				}
			}
		})
	}
}

func TestFaultsValidate(t *testing.T) {
	tests := []struct {
		name   string
		faults emulator.Faults
		ok     bool
	}{
		{"none", emulator.Faults{}, true},
		{"all rates summing to 1", emulator.Faults{ErrorRate: 0.5, RateLimitRate: 0.25, TimeoutRate: 0.25, Timeout: time.Second}, true},
		{"rate above 1", emulator.Faults{ErrorRate: 1.5}, false},
		{"negative rate", emulator.Faults{RateLimitRate: -0.1}, false},
		{"NaN rate", emulator.Faults{TimeoutRate: math.NaN()}, false},
		{"sum above 1", emulator.Faults{ErrorRate: 0.6, RateLimitRate: 0.6}, false},
		{"negative delay", emulator.Faults{Delay: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.faults.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate(%+v): want ok=%t, got %v", tt.faults, tt.ok, err)
			}
		})
	}
}

func TestFaultsJSON(t *testing.T) {
	f := emulator.Faults{ErrorRate: 0.1, RateLimitRate: 0.2, TimeoutRate: 0.3, Timeout: 1500 * time.Millisecond, Delay: 20 * time.Millisecond}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"error_rate":0.1,"rate_limit_rate":0.2,"timeout_rate":0.3,"timeout":"1.5s","delay":"20ms"}`
	if string(b) != want {
		t.Errorf("Marshal: want %s, got %s", want, b)
	}
	var back emulator.Faults
	if err := json.Unmarshal(b, &back); err != nil || back != f {
		t.Errorf("Unmarshal: want %+v, got %+v (%v)", f, back, err)
	}
	if err := json.Unmarshal([]byte(`{"timeout":"soon"}`), &back); err == nil {
		t.Error("Unmarshal of a bad duration: want an error, got none")
	}
}

func TestDelayStillAnswers(t *testing.T) {
	s := newServer(emulator.Options{Faults: emulator.Faults{Delay: time.Millisecond}})
	rec := serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, validBody())
	if rec.Code != http.StatusNoContent || len(s.GA4Events()) != 1 {
		t.Errorf("with a delay: want 204 and the event recorded, got %d and %d events", rec.Code, len(s.GA4Events()))
	}
}
