package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
)

// A full disk shows in Accept first: bbolt commits into the free pages of
// its file while it has some, so a small write such as Ping's heartbeat
// still succeeds while a call, which needs the file to grow, fails with
// ENOSPC. The store remembers such a failure and Ping reports it until
// the data dir's filesystem has room for the file's next growth step
// again: /readyz then says why webhooks get 503, and the forwarder
// recovers by itself once space is freed.
const (
	// minRoom is the least free space that counts as room again.
	minRoom = 1 << 20
	// maxRoom is bbolt's growth step for a large file (its AllocSize).
	maxRoom = 16 << 20
)

// spaceState remembers the last write that failed for lack of space.
type spaceState struct {
	failed atomic.Pointer[error]
	// free returns the bytes available to this process on the filesystem
	// holding dir; ok is false where that cannot be told.
	free func(dir string) (avail uint64, ok bool)
}

// noSpace reports whether err says the disk (or the quota) is full. bbolt
// loses the errno of a failed resize (it formats it with %s), so the text
// is matched too.
func noSpace(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		strings.Contains(err.Error(), syscall.ENOSPC.Error()) || strings.Contains(err.Error(), syscall.EDQUOT.Error())
}

// note records the outcome of a write: a failure for lack of space is
// kept for check.
func (s *spaceState) note(err error) {
	if noSpace(err) {
		s.failed.Store(&err)
	}
}

// check returns an error while the last write failed for lack of space
// and the filesystem of path (the database file) still has less room
// than the file's next growth step (its size, within [minRoom, maxRoom]).
// Where the free space cannot be told, it reports the failure once.
func (s *spaceState) check(path string) error {
	p := s.failed.Load()
	if p == nil {
		return nil
	}
	need := int64(minRoom)
	if fi, err := os.Stat(path); err == nil {
		need = min(max(fi.Size(), minRoom), maxRoom)
	}
	avail, ok := s.free(filepath.Dir(path))
	if ok && avail >= uint64(need) {
		s.failed.CompareAndSwap(p, nil)
		return nil
	}
	if !ok {
		s.failed.CompareAndSwap(p, nil)
		return fmt.Errorf("the data dir's disk is full: the last write failed: %w", *p)
	}
	return fmt.Errorf("the data dir's disk is full (%d bytes free, %d needed to grow the database): the last write failed: %w", avail, need, *p)
}
