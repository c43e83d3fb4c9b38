package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/callforward/callforward/forwarder/store"
)

// BenchmarkClaimAck measures the queue's side of a drain: jobs claimed
// 500 at a time and acknowledged together, as the delivery workers do
// (one op is one job). The calls are stored before the timer starts.
func BenchmarkClaimAck(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "forwarder.db"), store.Options{})
	ctx := context.Background()
	calls := (b.N + 1) / 2
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < calls; i += 16 {
				call, ds := testCall(fmt.Sprintf("CA-%d", i), "every-call", "qualified")
				if err := s.Accept(ctx, call, ds); err != nil {
					b.Errorf("Accept = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ResetTimer()
	for done := 0; done < b.N; {
		jobs, err := s.Claim(ctx, 500)
		if err != nil || len(jobs) == 0 {
			b.Fatalf("Claim = %d jobs, %v", len(jobs), err)
		}
		for _, err := range s.AckMany(ctx, jobs) {
			if err != nil {
				b.Fatalf("AckMany = %v", err)
			}
		}
		done += len(jobs)
	}
}
