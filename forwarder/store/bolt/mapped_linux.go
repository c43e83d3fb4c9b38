//go:build linux

package bolt

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// releaseMapped advises the kernel that the size bytes mapped at addr are
// not needed (MADV_DONTNEED). The address comes from bbolt's Info and
// stays a uintptr, passed straight to the system call: no pointer is
// made of it. The caller holds bbolt's mapping lock (a read transaction),
// and size is within the mapping.
func releaseMapped(addr uintptr, size int64) error {
	if addr == 0 || size <= 0 {
		return nil
	}
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, uintptr(size), syscall.MADV_DONTNEED)
	if errno != 0 {
		return fmt.Errorf("madvise: %w", errno)
	}
	return nil
}

// osPageSize is the system's page size, the unit of /proc/self/statm.
var osPageSize = uint64(os.Getpagesize())

// fileRSS returns the process's resident file-backed and shared memory in
// bytes (the third field of /proc/self/statm): the pages of the mapped
// database file, of the binary and of the libraries.
func fileRSS() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(f[2]), 10, 64)
	if err != nil {
		return 0, false
	}
	return n * osPageSize, true
}
