package diagnose

import (
	"testing"
	"time"
)

func TestScheduleNext(t *testing.T) {
	sent := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := Schedule{}.WithDefaults()
	// Poll as the schedule says, on time, and record every poll.
	var polls []time.Time
	last := time.Time{}
	for n := 0; n < 100; n++ {
		due, ok := s.Next(sent, last, n)
		if !ok {
			break
		}
		polls = append(polls, due)
		last = due
	}
	if len(polls) < 3 || len(polls) > 12 {
		t.Fatalf("%d polls in 24 h: %v", len(polls), polls)
	}
	if got := polls[0].Sub(sent); got != 30*time.Minute {
		t.Errorf("first poll after %s, want 30m", got)
	}
	for i := 1; i < len(polls); i++ {
		gap := polls[i].Sub(polls[i-1])
		if gap < s.MinGap() {
			t.Errorf("poll %d only %s after the one before", i, gap)
		}
		if gap > s.Max {
			t.Errorf("poll %d %s after the one before, more than Max %s", i, gap, s.Max)
		}
		if i >= 2 && gap < polls[i-1].Sub(polls[i-2]) && polls[i] != sent.Add(s.GiveUp) {
			t.Errorf("interval shrank at poll %d before the give-up poll", i)
		}
	}
	if final := polls[len(polls)-1]; final != sent.Add(s.GiveUp) {
		t.Errorf("last poll at %s after the send, want exactly the give-up time %s", final.Sub(sent), s.GiveUp)
	}
}

func TestScheduleLatePollKeepsGap(t *testing.T) {
	sent := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := Schedule{First: time.Minute, Max: 8 * time.Minute, GiveUp: time.Hour}
	tests := []struct {
		name  string
		last  time.Time
		polls int
		want  time.Time
		ok    bool
	}{
		{"first", time.Time{}, 0, sent.Add(time.Minute), true},
		{"second doubles", sent.Add(time.Minute), 1, sent.Add(3 * time.Minute), true},
		{"late poll: interval from the actual poll", sent.Add(20 * time.Minute), 2, sent.Add(24 * time.Minute), true},
		{"capped at Max", sent.Add(30 * time.Minute), 6, sent.Add(38 * time.Minute), true},
		{"final poll at give-up", sent.Add(55 * time.Minute), 8, sent.Add(time.Hour), true},
		{"final poll keeps the minimum gap", sent.Add(59*time.Minute + 30*time.Second), 9, sent.Add(60*time.Minute + 30*time.Second), true},
		{"given up", sent.Add(time.Hour), 10, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.Next(sent, tt.last, tt.polls)
			if ok != tt.ok || !got.Equal(tt.want) {
				t.Fatalf("Next = %s, %v; want %s, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestScheduleValidate(t *testing.T) {
	if err := (Schedule{First: time.Hour, GiveUp: time.Minute}).Validate(); err == nil {
		t.Error("give-up before the first poll accepted")
	}
	if err := (Schedule{First: -time.Second}).Validate(); err == nil {
		t.Error("negative duration accepted")
	}
	if err := (Schedule{}).Validate(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}
