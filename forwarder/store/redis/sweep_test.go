package redis

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

// TestSweepInChunks checks that Sweep keeps going past one script's worth
// of entries. The backlog is written straight into the keys: accepting it
// one call at a time would be slow for no gain.
func TestSweepInChunks(t *testing.T) {
	srv := redistest.Start(t)
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	opts := store.Options{DedupWindow: time.Hour, Now: func() time.Time { return now }}
	s, err := Open(t.Context(), srv.URL(), opts, Options{})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer s.Close()

	tests := []struct {
		name     string
		calls    int
		rejected int
	}{
		{"less than a chunk", sweepChunk / 2, 1},
		{"exactly a chunk", sweepChunk - 1, 1},
		{"several chunks", 2 * sweepChunk, sweepChunk + 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			old := encodeTime(now.Add(-2 * time.Hour))
			k := s.keys
			_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
				for i := range tc.calls {
					sid := fmt.Sprintf("CA-%s-%d", tc.name, i)
					p.HSet(ctx, k.dedup, sid, old)
					p.HSet(ctx, k.calls, sid, "{}")
					p.ZAdd(ctx, k.accepted, goredis.Z{Member: old + sid})
				}
				for i := range tc.rejected {
					m := old + fmt.Sprint(i)
					p.HSet(ctx, k.rejected, m, "{}")
					p.ZAdd(ctx, k.rejectedAt, goredis.Z{Member: m})
				}
				return nil
			})
			if err != nil {
				t.Fatalf("write backlog: %v", err)
			}
			n, err := s.Sweep(ctx)
			if want := tc.calls + tc.rejected; err != nil || n != want {
				t.Fatalf("Sweep = %d, %v; want %d, nil", n, err, want)
			}
			st, err := s.Stats(ctx)
			if err != nil || st != (store.Stats{}) {
				t.Fatalf("Stats after Sweep = %+v, %v; want all zero", st, err)
			}
		})
	}
}

// TestSweepStopsWhenCanceled checks that a canceled Sweep removes
// nothing.
func TestSweepStopsWhenCanceled(t *testing.T) {
	srv := redistest.Start(t)
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	s, err := Open(t.Context(), srv.URL(), store.Options{DedupWindow: time.Hour, Now: func() time.Time { return now }}, Options{})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	defer s.Close()
	if err := s.Reject(t.Context(), store.Rejected{At: now.Add(-2 * time.Hour), Status: 400}); err != nil {
		t.Fatalf("Reject = %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if n, err := s.Sweep(ctx); err == nil || n != 0 {
		t.Fatalf("canceled Sweep = %d, %v; want 0 and an error", n, err)
	}
	if st, err := s.Stats(t.Context()); err != nil || st.Rejected != 1 {
		t.Fatalf("Stats after a canceled Sweep = %+v, %v; want the rejected request kept", st, err)
	}
}
