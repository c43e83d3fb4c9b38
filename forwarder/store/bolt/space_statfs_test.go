//go:build linux || darwin || freebsd

package bolt

import (
	"path/filepath"
	"testing"
)

// TestFreeSpace: where the platform tells free space, a directory's is
// found.
func TestFreeSpace(t *testing.T) {
	if _, ok := freeSpace(t.TempDir()); !ok {
		t.Error("freeSpace of a temporary directory: unknown")
	}
	if _, ok := freeSpace(filepath.Join(t.TempDir(), "missing")); ok {
		t.Error("freeSpace of a missing directory: known")
	}
}
