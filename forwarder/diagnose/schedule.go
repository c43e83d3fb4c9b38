package diagnose

import (
	"fmt"
	"time"
)

// Schedule is when a request's processing status is asked for: first
// after First, then at intervals that double from First up to Max, and
// never after GiveUp from the send (the delivery's outcome is then
// Unknown). Google's guide: wait, then poll with exponential backoff;
// processing takes 30 minutes to 24 hours.
type Schedule struct {
	// First is the wait between the send and the first poll (default 30 min).
	First time.Duration
	// Max caps the interval between two polls (default 4 h).
	Max time.Duration
	// GiveUp is how long after the send a request is still asked about
	// (default 24 h).
	GiveUp time.Duration
}

// WithDefaults returns s with zero fields set to their defaults.
func (s Schedule) WithDefaults() Schedule {
	if s.First <= 0 {
		s.First = 30 * time.Minute
	}
	if s.Max <= 0 {
		s.Max = 4 * time.Hour
	}
	if s.Max < s.First {
		s.Max = s.First
	}
	if s.GiveUp <= 0 {
		s.GiveUp = 24 * time.Hour
	}
	return s
}

// Validate reports a schedule that cannot work.
func (s Schedule) Validate() error {
	if s.First < 0 || s.Max < 0 || s.GiveUp < 0 {
		return fmt.Errorf("diagnostics schedule: durations must not be negative")
	}
	d := s.WithDefaults()
	if d.GiveUp < d.First {
		return fmt.Errorf("diagnostics schedule: give-up time %s is before the first poll at %s", d.GiveUp, d.First)
	}
	return nil
}

// Next is when to poll a request sent at sentAt that was polled polls
// times already, the last of them at last; ok is false when no poll is
// left (the schedule gave up and the outcome is Unknown). Intervals run
// from the last actual poll, so a late poll never brings the next one
// closer than First; once GiveUp is reached one poll is still made, at or
// after the give-up time, before a request is declared Unknown.
func (s Schedule) Next(sentAt, last time.Time, polls int) (due time.Time, ok bool) {
	s = s.WithDefaults()
	if polls <= 0 {
		return sentAt.Add(s.First), true
	}
	end := sentAt.Add(s.GiveUp)
	if !last.Before(end) {
		return time.Time{}, false
	}
	interval := s.First
	for i := 0; i < polls && interval < s.Max; i++ {
		interval *= 2
	}
	interval = min(interval, s.Max)
	due = last.Add(interval)
	if final := maxTime(end, last.Add(s.First)); due.After(final) {
		due = final
	}
	return due, true
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// MinGap is the shortest time the schedule leaves between two polls of
// one request; tests hold Google stand-ins to it.
func (s Schedule) MinGap() time.Duration {
	return s.WithDefaults().First
}
