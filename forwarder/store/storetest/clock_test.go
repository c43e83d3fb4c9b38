package storetest

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		moves []time.Duration
		want  time.Time
	}{
		{name: "stands still", want: start},
		{name: "advances", moves: []time.Duration{time.Second, time.Hour}, want: start.Add(time.Hour + time.Second)},
		{name: "goes back when told", moves: []time.Duration{-time.Minute}, want: start.Add(-time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClock(start)
			for _, d := range tc.moves {
				c.Advance(d)
			}
			if got := c.Now(); !got.Equal(tc.want) {
				t.Errorf("Now() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClockConcurrent(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(start)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Millisecond)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(time.Second); !got.Equal(want) {
		t.Errorf("after 1000 advances of 1ms: Now() = %v, want %v", got, want)
	}
}
