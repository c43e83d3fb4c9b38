package logtest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Concurrent writers and a reader: every write is kept whole (run with
// -race to see the lock matters).
func TestBufferConcurrent(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { fmt.Fprintf(&b, "line %02d\n", i) })
		wg.Go(func() { _ = b.String() })
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 50 {
		t.Fatalf("%d lines, want 50", len(lines))
	}
	for _, l := range lines {
		if len(l) != len("line 00") || !strings.HasPrefix(l, "line ") {
			t.Errorf("torn line %q", l)
		}
	}
}
