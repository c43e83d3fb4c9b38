package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
)

// TestSweepInChunks checks that Sweep keeps going past one transaction's
// worth of entries. The backlog is written straight into the buckets:
// accepting it one call at a time would cost one commit each. It is
// written with the store's own writers, which keep the counts.
func TestSweepInChunks(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	opts := store.Options{DedupWindow: time.Hour, Now: func() time.Time { return now }}
	s, err := Open(filepath.Join(t.TempDir(), "forwarder.db"), opts)
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
			old := now.Add(-2 * time.Hour)
			err := s.db.Update(func(tx *bbolt.Tx) error {
				b := bucketsOf(tx)
				for i := range tc.calls {
					sid := fmt.Sprintf("CA-%s-%d", tc.name, i)
					err := errors.Join(
						b.dedup.Put([]byte(sid), encodeTime(old)),
						putCounted(b, b.calls, keyCalls, []byte(sid), []byte("{}")),
						putAccepted(b, timeKey(old, sid)),
					)
					if err != nil {
						return err
					}
				}
				for i := range tc.rejected {
					if err := putCounted(b, b.rejected, keyRejected, timeKey(old, fmt.Sprint(i)), []byte("{}")); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("write backlog: %v", err)
			}
			n, err := s.Sweep(t.Context())
			if want := tc.calls + tc.rejected; err != nil || n != want {
				t.Fatalf("Sweep = %d, %v; want %d, nil", n, err, want)
			}
			st, err := s.Stats(t.Context())
			if err != nil || st != (store.Stats{}) {
				t.Fatalf("Stats after Sweep = %+v, %v; want all zero", st, err)
			}
		})
	}
}
