package deliver

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// sizes returns the batch sizes of units, by the key of their first job
// (its delivery's destination), sorted.
func sizes(units []unit) map[string][]int {
	out := map[string][]int{}
	for _, u := range units {
		k := u.jobs[0].Delivery.Destination
		out[k] = append(out[k], len(u.jobs))
	}
	for _, s := range out {
		slices.Sort(s)
	}
	return out
}

func job(key string, i int) store.Job {
	return store.Job{Delivery: forwarder.Delivery{ID: fmt.Sprintf("%s/%d", key, i), Destination: key}}
}

func TestAccumulatorPerKeyLimits(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	ga4 := limits{max: 25, window: 100 * time.Millisecond}
	ads := limits{max: 2000, window: time.Second}
	a := newAccumulator()
	for i := range 60 {
		a.add("ga4", job("ga4", i), t0, ga4)
	}
	for i := range 30 {
		a.add("ads", job("ads", i), t0, ads)
	}
	if next, ok := a.nextFlush(); !ok || !next.Equal(t0.Add(ga4.window)) {
		t.Errorf("nextFlush: want %v (the shortest window), got %v %v", t0.Add(ga4.window), next, ok)
	}
	// Full batches go at once, in chunks of their own max.
	got := sizes(a.ready(t0))
	if want := map[string][]int{"ga4": {25, 25}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ready at once: want %v, got %v", want, got)
	}
	if a.size() != 40 {
		t.Errorf("size: want 40 held, got %d", a.size())
	}
	// The rest of the GA4 batch goes after its window, the Ads batch later.
	got = sizes(a.ready(t0.Add(ga4.window)))
	if want := map[string][]int{"ga4": {10}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ready after the GA4 window: want %v, got %v", want, got)
	}
	if got := a.ready(t0.Add(ads.window - time.Millisecond)); len(got) != 0 {
		t.Errorf("ready before the Ads window: want nothing, got %v", sizes(got))
	}
	got = sizes(a.ready(t0.Add(ads.window)))
	if want := map[string][]int{"ads": {30}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ready after the Ads window: want %v, got %v", want, got)
	}
	if a.size() != 0 {
		t.Errorf("size: want 0, got %d", a.size())
	}
	if _, ok := a.nextFlush(); ok {
		t.Error("nextFlush: want none when nothing is held")
	}
}

func TestAccumulatorDrainRespectsMax(t *testing.T) {
	t0 := time.Now()
	a := newAccumulator()
	for i := range 57 {
		a.add("ga4", job("ga4", i), t0, limits{max: 25, window: time.Hour})
	}
	units := a.drain()
	if got, want := sizes(units), map[string][]int{"ga4": {7, 25, 25}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("drain: want %v, got %v", want, got)
	}
	seen := map[string]bool{}
	for _, u := range units {
		for _, j := range u.jobs {
			if seen[j.Delivery.ID] {
				t.Errorf("%s drained twice", j.Delivery.ID)
			}
			seen[j.Delivery.ID] = true
		}
	}
	if len(seen) != 57 || a.size() != 0 {
		t.Errorf("drain: %d jobs out, %d left; want 57 and 0", len(seen), a.size())
	}
}

// limitSender is a BatchSender that may set its own limits.
type limitSender struct {
	max    int
	window time.Duration
}

func (limitSender) Send(context.Context, forwarder.Delivery) error { return nil }
func (limitSender) BatchKey(forwarder.Delivery) string             { return "" }
func (limitSender) SendBatch(_ context.Context, ds []forwarder.Delivery) []error {
	return make([]error, len(ds))
}

type limiter struct{ limitSender }

func (l limiter) BatchLimits() (int, time.Duration) { return l.max, l.window }

func TestBatchLimits(t *testing.T) {
	cfg := Config{MaxBatch: 2000, BatchWindow: time.Second}
	tests := []struct {
		name string
		s    Sender
		want limits
	}{
		{"no limits of its own", limitSender{}, limits{2000, time.Second}},
		{"lower limits", limiter{limitSender{25, 100 * time.Millisecond}}, limits{25, 100 * time.Millisecond}},
		{"higher limits do not raise the config's", limiter{limitSender{5000, time.Minute}}, limits{2000, time.Second}},
		{"zero limits keep the config's", limiter{limitSender{0, 0}}, limits{2000, time.Second}},
		{"negative limits keep the config's", limiter{limitSender{-1, -time.Second}}, limits{2000, time.Second}},
		{"only a max", limiter{limitSender{25, 0}}, limits{25, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := batchLimits(tt.s, cfg); got != tt.want {
				t.Errorf("batchLimits: want %+v, got %+v", tt.want, got)
			}
		})
	}
	// The deliverer applies them per destination type.
	d := New(nil, map[string]Sender{"ga4": limiter{limitSender{25, 100 * time.Millisecond}}, "ads": limitSender{}}, Config{})
	if got, want := d.limits["ga4"], (limits{25, 100 * time.Millisecond}); got != want {
		t.Errorf("deliverer limits of ga4: want %+v, got %+v", want, got)
	}
	if got, want := d.limits["ads"], (limits{2000, time.Second}); got != want {
		t.Errorf("deliverer limits of ads: want %+v, got %+v", want, got)
	}
}

// TestAccumulatorOldest: oldest takes whole batches, those gathered first,
// and leaves the rest with their counts.
func TestAccumulatorOldest(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC)
	lim := limits{max: 10, window: time.Hour}
	tests := []struct {
		name     string
		n        int
		want     map[string][]int
		wantLeft int
	}{
		{"none", 0, map[string][]int{}, 6},
		{"the two oldest", 2, map[string][]int{"a": {3}, "b": {1}}, 2},
		{"more than there are", 5, map[string][]int{"a": {3}, "b": {1}, "c": {2}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAccumulator()
			for i := range 3 {
				a.add("a", job("a", i), t0, lim)
			}
			a.add("b", job("b", 0), t0.Add(time.Second), lim)
			a.add("c", job("c", 0), t0.Add(2*time.Second), lim)
			a.add("c", job("c", 1), t0.Add(3*time.Second), lim)
			got := sizes(a.oldest(tt.n))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("oldest(%d) = %v, want %v", tt.n, got, tt.want)
			}
			if a.size() != tt.wantLeft {
				t.Errorf("size after oldest(%d) = %d, want %d", tt.n, a.size(), tt.wantLeft)
			}
			if left := sizes(a.drain()); len(left)+len(got) != 3 {
				t.Errorf("left %v after taking %v, want the other batches", left, got)
			}
		})
	}
}
