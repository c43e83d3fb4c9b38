package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// Tallier reads the counts a store keeps as it writes (see Tallies), so
// that the console and the admin API show totals at any size without a
// scan of the calls or of the dead letters.
type Tallier interface {
	// Tallies returns the store's counts as of now.
	Tallies(ctx context.Context) (Tallies, error)
}

// TallyKeep is how long the calls per hour are kept: the hours that
// start before now minus TallyKeep are pruned (by Sweep) and never
// reported.
const TallyKeep = 8 * 24 * time.Hour

// Tallies are counts a store keeps in the same atomic step as every
// write that changes them, so they equal at all times a recount made from
// the store's own Jobs, ListCalls and DeadLetters:
//
//   - Hours: the calls by the UTC hour of their latest acceptance (the
//     time ListCalls reports), for the hours from TallyKeep ago on; an
//     hour without calls is not listed.
//   - Destinations: per destination, its jobs by state, and those done or
//     dead by outcome, as JobInfo.Outcome judges them (see TallyKeys).
//   - DeadGroups: the dead letters by kind, code and reason.
//
// A store written before the tallies existed gets them counted once, on
// open or first use.
type Tallies struct {
	// Hours are oldest first.
	Hours []HourTally `json:"hours"`
	// Destinations are by name.
	Destinations []DestinationTally `json:"destinations"`
	// DeadGroups are largest first (then by kind, code, reason).
	DeadGroups []DeadGroup `json:"dead_groups"`
}

// HourTally is the number of calls last accepted in one UTC hour.
type HourTally struct {
	Hour  time.Time `json:"hour"`
	Calls int       `json:"calls"`
}

// DestinationTally counts the jobs of one destination: by state, and
// those done or dead by outcome (a job neither delivered nor judged by
// Google has none).
type DestinationTally struct {
	Destination string `json:"destination"`

	Pending int `json:"pending"`
	Done    int `json:"done"`
	Dead    int `json:"dead"`
	Dropped int `json:"dropped"`

	Counted  int `json:"counted"`
	Rejected int `json:"rejected"`
	Awaiting int `json:"awaiting"`
	Sent     int `json:"sent"`
	Unknown  int `json:"unknown"`
}

// DeadGroup is the number of dead letters of one kind (DeadSend or
// DeadProcessing, never ""), code and reason.
type DeadGroup struct {
	Kind   string `json:"kind"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// The tallies are stored by the backends as counts under keys: one
// separator joins a key's parts, the last of which (destination, reason)
// may hold anything.
const (
	tallySep      = "\x1f"
	tallyState    = "state"
	tallyOutcome  = "outcome"
	tallyDeadKind = "dead"
)

// TallyStateKey is the key of the count of the jobs to dest in state.
func TallyStateKey(dest string, state JobState) string {
	return tallyState + tallySep + string(state) + tallySep + dest
}

// TallyOutcomeKey is the key of the count of the jobs to dest, done or
// dead, whose outcome is o.
func TallyOutcomeKey(dest string, o forwarder.Outcome) string {
	return tallyOutcome + tallySep + string(o) + tallySep + dest
}

// TallyDeadKey is the key of the count of the dead letters of kind ("" is
// DeadSend), code and reason.
func TallyDeadKey(kind, code, reason string) string {
	if kind == "" {
		kind = DeadSend
	}
	return tallyDeadKind + tallySep + kind + tallySep + code + tallySep + reason
}

// TallyOutcome is the outcome a job counts under in the tallies: the one
// JobInfo.Outcome gives, for a job done or dead; "" for the others and
// for a job without one.
func TallyOutcome(info JobInfo) forwarder.Outcome {
	if info.State != JobDone && info.State != JobDead {
		return ""
	}
	if v := info.Outcome(); v != nil {
		return v.Outcome
	}
	return ""
}

// TallyKeys returns the keys a job counts under: its state's, its
// outcome's (TallyOutcome, when it has one) and, for a dead job, its
// group's (reason and code are the burial's).
func TallyKeys(info JobInfo, reason, code string) []string {
	dest := info.Job.Delivery.Destination
	keys := []string{TallyStateKey(dest, info.State)}
	if o := TallyOutcome(info); o != "" {
		keys = append(keys, TallyOutcomeKey(dest, o))
	}
	if info.State == JobDead {
		keys = append(keys, TallyDeadKey(info.Kind, code, reason))
	}
	return keys
}

// TallyHour is the hour a call accepted at t counts in.
func TallyHour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// TallyFrom is the first hour Tallies reports at now: the hours before
// it are pruned.
func TallyFrom(now time.Time) time.Time { return TallyHour(now.Add(-TallyKeep)) }

// Recount counts tallies as the stores keep them; the backends recount a
// store written before the tallies with it, and the conformance suite
// checks their counts against one.
type Recount struct {
	// Counts are by key (TallyKeys).
	Counts map[string]int64
	// Hours are by TallyHour.
	Hours map[time.Time]int64
}

// NewRecount returns an empty Recount.
func NewRecount() *Recount {
	return &Recount{Counts: map[string]int64{}, Hours: map[time.Time]int64{}}
}

// AddJob counts a job (reason and code: the burial's, for a dead one).
func (r *Recount) AddJob(info JobInfo, reason, code string) {
	for _, k := range TallyKeys(info, reason, code) {
		r.Counts[k]++
	}
}

// AddCall counts a call last accepted at at.
func (r *Recount) AddCall(at time.Time) { r.Hours[TallyHour(at)]++ }

// Tallies returns the counts as Tallies reports them at now.
func (r *Recount) Tallies(now time.Time) (Tallies, error) {
	return BuildTallies(r.Counts, r.Hours, now)
}

// BuildTallies makes Tallies of counts by key and by hour, as a backend
// stores them, leaving out zero counts and the hours before
// TallyFrom(now). It fails on a key it does not know.
func BuildTallies(counts map[string]int64, hours map[time.Time]int64, now time.Time) (Tallies, error) {
	t := Tallies{Hours: []HourTally{}, Destinations: []DestinationTally{}, DeadGroups: []DeadGroup{}}
	from := TallyFrom(now)
	for h, n := range hours {
		if n != 0 && !h.Before(from) {
			t.Hours = append(t.Hours, HourTally{Hour: h.UTC(), Calls: int(n)})
		}
	}
	slices.SortFunc(t.Hours, func(a, b HourTally) int { return a.Hour.Compare(b.Hour) })
	dests := map[string]*DestinationTally{}
	dest := func(name string) *DestinationTally {
		d := dests[name]
		if d == nil {
			d = &DestinationTally{Destination: name}
			dests[name] = d
		}
		return d
	}
	for k, n := range counts {
		if n == 0 {
			continue
		}
		parts := strings.SplitN(k, tallySep, 3)
		if len(parts) != 3 {
			return Tallies{}, fmt.Errorf("tallies: bad key %q", k)
		}
		c := int(n)
		switch parts[0] {
		case tallyState:
			d := dest(parts[2])
			switch JobState(parts[1]) {
			case JobPending:
				d.Pending += c
			case JobDone:
				d.Done += c
			case JobDead:
				d.Dead += c
			case JobDropped:
				d.Dropped += c
			default:
				return Tallies{}, fmt.Errorf("tallies: bad state in key %q", k)
			}
		case tallyOutcome:
			d := dest(parts[2])
			switch forwarder.Outcome(parts[1]) {
			case forwarder.OutcomeCounted:
				d.Counted += c
			case forwarder.OutcomeRejected:
				d.Rejected += c
			case forwarder.OutcomeAwaiting:
				d.Awaiting += c
			case forwarder.OutcomeSent:
				d.Sent += c
			case forwarder.OutcomeUnknown:
				d.Unknown += c
			default:
				return Tallies{}, fmt.Errorf("tallies: bad outcome in key %q", k)
			}
		case tallyDeadKind:
			rest := strings.SplitN(parts[2], tallySep, 2)
			if len(rest) != 2 {
				return Tallies{}, fmt.Errorf("tallies: bad key %q", k)
			}
			t.DeadGroups = append(t.DeadGroups, DeadGroup{Kind: parts[1], Code: rest[0], Reason: rest[1], Count: c})
		default:
			return Tallies{}, fmt.Errorf("tallies: bad key %q", k)
		}
	}
	for _, d := range dests {
		t.Destinations = append(t.Destinations, *d)
	}
	slices.SortFunc(t.Destinations, func(a, b DestinationTally) int { return strings.Compare(a.Destination, b.Destination) })
	slices.SortFunc(t.DeadGroups, func(a, b DeadGroup) int {
		return cmp.Or(b.Count-a.Count, strings.Compare(a.Kind, b.Kind), strings.Compare(a.Code, b.Code), strings.Compare(a.Reason, b.Reason))
	})
	return t, nil
}
