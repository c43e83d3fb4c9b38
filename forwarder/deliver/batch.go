package deliver

import (
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

// unit is what one worker sends at once: a job, or a batch of jobs for one
// BatchSender and batch key.
type unit struct{ jobs []store.Job }

// accumulator gathers claimed jobs per batch key until their batch is full
// or old enough. It is used by the claimer goroutine only.
type accumulator struct {
	groups map[string]*group
	n      int
}

type group struct {
	jobs  []store.Job
	since time.Time
}

func newAccumulator() *accumulator { return &accumulator{groups: map[string]*group{}} }

func (a *accumulator) add(key string, j store.Job, now time.Time) {
	g, ok := a.groups[key]
	if !ok {
		g = &group{since: now}
		a.groups[key] = g
	}
	g.jobs = append(g.jobs, j)
	a.n++
}

func (a *accumulator) size() int { return a.n }

// ready removes and returns the batches that are full (in chunks of
// maxBatch) or whose first job has waited window.
func (a *accumulator) ready(now time.Time, maxBatch int, window time.Duration) []unit {
	var out []unit
	for key, g := range a.groups {
		for len(g.jobs) >= maxBatch {
			out = append(out, unit{jobs: g.jobs[:maxBatch:maxBatch]})
			g.jobs = g.jobs[maxBatch:]
			a.n -= maxBatch
			g.since = now
		}
		if len(g.jobs) == 0 {
			delete(a.groups, key)
			continue
		}
		if now.Sub(g.since) >= window {
			out = append(out, unit{jobs: g.jobs})
			a.n -= len(g.jobs)
			delete(a.groups, key)
		}
	}
	return out
}

// drain removes and returns every batch.
func (a *accumulator) drain() []unit {
	var out []unit
	for key, g := range a.groups {
		out = append(out, unit{jobs: g.jobs})
		delete(a.groups, key)
	}
	a.n = 0
	return out
}

// nextFlush is when the oldest batch becomes due.
func (a *accumulator) nextFlush(window time.Duration) (time.Time, bool) {
	var next time.Time
	for _, g := range a.groups {
		if t := g.since.Add(window); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next, !next.IsZero()
}
