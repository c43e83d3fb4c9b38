package httpapi

import (
	"math"
	"testing"
	"time"
)

func TestTokenLimits(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := newTokenLimits(2, 1, 2) // two tokens, 2/s, one at a time
	steps := []struct {
		key      int
		at       time.Duration
		wantOK   bool
		wantWait time.Duration
	}{
		{0, 0, true, 0},
		{0, 0, false, 500 * time.Millisecond},
		{1, 0, true, 0}, // the other token has its own bucket
		{0, 250 * time.Millisecond, false, 250 * time.Millisecond},
		{0, 500 * time.Millisecond, true, 0},
		{0, 500 * time.Millisecond, false, 500 * time.Millisecond},
	}
	for i, s := range steps {
		wait, ok := l.allow(s.key, t0.Add(s.at))
		if ok != s.wantOK || wait != s.wantWait {
			t.Errorf("step %d (token %d at +%v): allow = %v, %v; want %v, %v", i, s.key, s.at, wait, ok, s.wantWait, s.wantOK)
		}
	}
}

func TestTokenLimitsOff(t *testing.T) {
	for _, r := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if l := newTokenLimits(r, 5, 3); l != nil {
			t.Errorf("rate %v: a limit was built, want none", r)
		}
		var l tokenLimits
		if _, ok := l.allow(0, time.Now()); !ok {
			t.Error("no limit refused a request")
		}
	}
}

func TestTokenLimitsDefaults(t *testing.T) {
	tests := []struct {
		rate      float64
		burst     int
		keys      int
		wantBurst int
		wantKeys  int
	}{
		{0.01, 0, 3, 1, 3},
		{2.5, 0, 1, 3, 1},
		{1, 7, 0, 7, 1}, // no tokens (no auth): one shared bucket
		{1e12, 0, 1, math.MaxInt32, 1},
	}
	for _, tt := range tests {
		l := newTokenLimits(tt.rate, tt.burst, tt.keys)
		if len(l) != tt.wantKeys || l[0].Burst() != tt.wantBurst {
			t.Errorf("newTokenLimits(%v, %d, %d): %d buckets of %d, want %d of %d", tt.rate, tt.burst, tt.keys, len(l), l[0].Burst(), tt.wantKeys, tt.wantBurst)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for wait, want := range map[time.Duration]int64{0: 1, time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, time.Hour: 3600} {
		if got := retryAfter(wait); got != want {
			t.Errorf("retryAfter(%v) = %d, want %d", wait, got, want)
		}
	}
	// A very low rate announces at most a day.
	l := newTokenLimits(1e-9, 1, 1)
	now := time.Now()
	l.allow(0, now)
	if wait, ok := l.allow(0, now); ok || wait != maxWait {
		t.Errorf("allow at 1e-9/s = %v, %v; want %v, false", wait, ok, maxWait)
	}
}
