package bolt_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestAcceptLeavesCallersStacksSmall: the goroutines that accept webhooks
// (one per connection) keep small stacks. S2 keeps a 64 KiB table on the
// stack of whoever compresses, so before compression moved to the
// compressors each of them grew a stack of 128 KiB: 8 MiB at 64
// connections.
func TestAcceptLeavesCallersStacksSmall(t *testing.T) {
	opts, _ := testOptions()
	s := open(t, filepath.Join(t.TempDir(), "forwarder.db"), opts)
	// No collection in between, which would shrink idle stacks.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	const callers = 64
	// Warm up: the compressors and their stacks exist before measuring.
	call, ds := testCall("CA-warm", "answered", "every-call")
	if err := s.Accept(t.Context(), call, ds); err != nil {
		t.Fatalf("Accept = %v", err)
	}
	before := stackInuse()
	accepted, release := make(chan error), make(chan struct{})
	for i := range callers {
		go func() {
			call, ds := testCall(fmt.Sprintf("CA-%03d", i), "answered", "every-call", "qualified")
			accepted <- s.Accept(t.Context(), call, ds)
			<-release // keep the goroutine, and its stack, until measured
		}()
	}
	for range callers {
		if err := <-accepted; err != nil {
			t.Errorf("Accept = %v", err)
		}
	}
	grown := int64(stackInuse()) - int64(before)
	close(release)
	t.Logf("stacks grew by %d KiB for %d callers of Accept", grown>>10, callers)
	// 32 KiB a caller is far above what accepting needs without S2's
	// table, and a quarter of what it took with it.
	if limit := int64(callers * 32 << 10); grown > limit {
		t.Errorf("stacks grew by %d KiB for %d callers of Accept, want at most %d KiB", grown>>10, callers, limit>>10)
	}
}

// stackInuse returns the bytes of goroutine stacks in use.
func stackInuse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.StackInuse
}
