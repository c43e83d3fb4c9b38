package deliver

import (
	"slices"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

// unit is what one worker sends at once: a job, or a batch of jobs for one
// BatchSender and batch key.
type unit struct{ jobs []store.Job }

// BatchLimiter is implemented by a BatchSender whose batches have limits
// of their own: SendBatch gets at most maxSize deliveries, gathered for at
// most window. Each, when positive, lowers Config.MaxBatch or
// Config.BatchWindow for this sender's batches; neither raises them.
type BatchLimiter interface {
	BatchLimits() (maxSize int, window time.Duration)
}

// batchLimits returns the limits of the batches of s: the config's,
// lowered by those s sets when it is a BatchLimiter.
func batchLimits(s Sender, cfg Config) limits {
	lim := limits{max: cfg.MaxBatch, window: cfg.BatchWindow}
	if bl, ok := s.(BatchLimiter); ok {
		n, w := bl.BatchLimits()
		if n > 0 {
			lim.max = min(lim.max, n)
		}
		if w > 0 {
			lim.window = min(lim.window, w)
		}
	}
	return lim
}

// limits bound one batch of a batch key: at most max jobs, sent once the
// first has waited window.
type limits struct {
	max    int
	window time.Duration
}

// accumulator gathers claimed jobs per batch key until their batch is full
// or old enough. It is used by the claimer goroutine only.
type accumulator struct {
	groups map[string]*group
	n      int
}

type group struct {
	jobs  []store.Job
	since time.Time
	lim   limits
}

func newAccumulator() *accumulator { return &accumulator{groups: map[string]*group{}} }

// add gathers j under key; lim are the limits of the key's batches (those
// of its first job's sender).
func (a *accumulator) add(key string, j store.Job, now time.Time, lim limits) {
	g, ok := a.groups[key]
	if !ok {
		g = &group{since: now, lim: lim}
		a.groups[key] = g
	}
	g.jobs = append(g.jobs, j)
	a.n++
}

func (a *accumulator) size() int { return a.n }

// largestBatch returns the largest batch limit of the groups a holds (0
// when it holds none).
func (a *accumulator) largestBatch() int {
	n := 0
	for _, g := range a.groups {
		n = max(n, g.lim.max)
	}
	return n
}

// ready removes and returns the batches that are full (in chunks of their
// max) or whose first job has waited their window.
func (a *accumulator) ready(now time.Time) []unit {
	var out []unit
	for key, g := range a.groups {
		for len(g.jobs) >= g.lim.max {
			out = append(out, unit{jobs: g.jobs[:g.lim.max:g.lim.max]})
			g.jobs = g.jobs[g.lim.max:]
			a.n -= g.lim.max
			g.since = now
		}
		if len(g.jobs) == 0 {
			delete(a.groups, key)
			continue
		}
		if now.Sub(g.since) >= g.lim.window {
			out = append(out, unit{jobs: g.jobs})
			a.n -= len(g.jobs)
			delete(a.groups, key)
		}
	}
	return out
}

// drain removes and returns every batch, in chunks of at most their max.
func (a *accumulator) drain() []unit {
	var out []unit
	for key, g := range a.groups {
		for len(g.jobs) > 0 {
			n := min(len(g.jobs), g.lim.max)
			out = append(out, unit{jobs: g.jobs[:n:n]})
			g.jobs = g.jobs[n:]
		}
		delete(a.groups, key)
	}
	a.n = 0
	return out
}

// oldest removes and returns the n batches gathered longest ago (all when
// there are fewer), without waiting for their windows.
func (a *accumulator) oldest(n int) []unit {
	keys := make([]string, 0, len(a.groups))
	for key := range a.groups {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, func(x, y string) int { return a.groups[x].since.Compare(a.groups[y].since) })
	var out []unit
	for _, key := range keys[:min(n, len(keys))] {
		g := a.groups[key]
		out = append(out, unit{jobs: g.jobs})
		a.n -= len(g.jobs)
		delete(a.groups, key)
	}
	return out
}

// nextFlush is when the oldest batch becomes due.
func (a *accumulator) nextFlush() (time.Time, bool) {
	var next time.Time
	for _, g := range a.groups {
		if t := g.since.Add(g.lim.window); next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next, !next.IsZero()
}
