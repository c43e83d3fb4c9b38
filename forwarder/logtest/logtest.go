// Package logtest holds what tests need to read what the code under test
// logs or prints while it runs.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer that one side may write (a logger, a command's
// output) while a test reads it: every method takes a lock. The zero value
// is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
