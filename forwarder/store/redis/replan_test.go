package redis_test

import (
	"errors"
	"maps"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

// TestReplanWritesOnlyJobKeys: Replan writes the job keys (and their tallies) only, and only
// when it adds a job; the call, its dedup mark and the expiring keys'
// TTLs are left alone.
func TestReplanWritesOnlyJobKeys(t *testing.T) {
	srv := redistest.Start(t)
	c := client(t, srv)
	opts, clock := testOptions()
	s := open(t, srv.URL(), opts, redis.Options{Prefix: "p"})
	ctx := t.Context()
	call := workload(t, s, "CA-work")
	clock.Advance(time.Hour)
	ttl := func() time.Duration {
		d, err := c.PTTL(ctx, "{p}:calls").Result()
		if err != nil {
			t.Fatalf("PTTL = %v", err)
		}
		return d
	}

	_, known := testCall(call.Sid, "acked", "buried", "retried", "claimed")
	unknown, unknownDs := testCall("CA-unknown", "r")
	tests := []struct {
		name    string
		sid     string
		plan    []string
		wantN   int
		wantErr error
		changed []string
	}{
		{"nothing new", call.Sid, nil, 0, nil, nil},
		{"unknown call", unknown.Sid, nil, 0, store.ErrNotFound, nil},
		{"one new", call.Sid, []string{"new"}, 1, nil, []string{"{p}:due", "{p}:jobs", "{p}:plans", "{p}:tallies"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := known
			if tc.sid == unknown.Sid {
				ds = unknownDs
			}
			_, extra := testCall(tc.sid, tc.plan...)
			ds = append(slices.Clip(ds), extra...)

			before, ttlBefore := dump(t, c), ttl()
			n, err := s.Replan(ctx, tc.sid, ds, store.ReplanOptions{})
			if n != tc.wantN || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Replan = %d, %v; want %d, %v", n, err, tc.wantN, tc.wantErr)
			}
			after := dump(t, c)
			var changed []string
			for _, k := range slices.Sorted(maps.Keys(after)) {
				if after[k] != before[k] {
					changed = append(changed, k)
				}
			}
			if len(after) != len(before) || !slices.Equal(changed, tc.changed) {
				t.Fatalf("Replan changed keys %q (%d keys before, %d after), want %q", changed, len(before), len(after), tc.changed)
			}
			// The server's clock runs: the TTL may only have shrunk.
			if got := ttl(); got > ttlBefore || got <= 0 {
				t.Fatalf("TTL of the calls key went from %v to %v, want untouched", ttlBefore, got)
			}
		})
	}
}

// TestCallSidsOutsideTimeRange: the index holds times as unix nanoseconds
// (1677 to 2262); a since outside that range, the zero time among them,
// must not wrap around.
func TestCallSidsOutsideTimeRange(t *testing.T) {
	srv := redistest.Start(t)
	opts, _ := testOptions()
	s := open(t, srv.URL(), opts, redis.Options{})
	call, ds := testCall("CA-1", "r")
	if err := s.Accept(t.Context(), call, ds); err != nil {
		t.Fatalf("Accept = %v", err)
	}
	first, last := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
	tests := []struct {
		name  string
		since time.Time
		want  []string
	}{
		{"zero time", time.Time{}, []string{"CA-1"}},
		{"year 1000", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), []string{"CA-1"}},
		{"just before the range", first.Add(-time.Nanosecond), []string{"CA-1"}},
		{"first of the range", first, []string{"CA-1"}},
		{"last of the range", last, nil},
		{"just after the range", last.Add(time.Nanosecond), nil},
		{"year 3000", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), nil},
	}
	for _, tc := range tests {
		got, err := s.CallSids(t.Context(), tc.since, 0)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("CallSids(%s) = %v, %v; want %v, nil", tc.name, got, err, tc.want)
		}
	}
}
