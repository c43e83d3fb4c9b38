//go:build !linux

package bolt

// releaseMapped does nothing: the pages are released only on Linux.
func releaseMapped(uintptr, int64) error { return nil }

// fileRSS cannot tell the file-backed RSS on this system.
func fileRSS() (uint64, bool) { return 0, false }
