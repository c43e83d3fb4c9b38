//go:build linux || darwin || freebsd

package bolt

import "syscall"

// freeSpace returns the bytes of the filesystem holding dir that this
// process may use.
func freeSpace(dir string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
