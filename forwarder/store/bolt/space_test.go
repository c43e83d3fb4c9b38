package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestNoSpace(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"ENOSPC from a write", fmt.Errorf("bolt: accept CA1: %w", &fs.PathError{Op: "write", Path: "x.db", Err: syscall.ENOSPC}), true},
		{"EDQUOT", &fs.PathError{Op: "write", Path: "x.db", Err: syscall.EDQUOT}, true},
		{"a resize error as bbolt formats it", errors.New("file resize error: truncate x.db: " + syscall.ENOSPC.Error()), true},
		{"another write error", &fs.PathError{Op: "write", Path: "x.db", Err: syscall.EIO}, false},
		{"read-only", &fs.PathError{Op: "write", Path: "x.db", Err: syscall.EROFS}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := noSpace(tt.err); got != tt.want {
				t.Errorf("noSpace(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestSpaceCheck: after a write failed for lack of space, check fails
// until the filesystem has room for the file's next growth step, then
// forgets the failure; other failures and successes leave it alone.
func TestSpaceCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "callforward.db")
	if err := os.WriteFile(path, make([]byte, 3<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	full := &fs.PathError{Op: "write", Path: path, Err: syscall.ENOSPC}
	tests := []struct {
		name    string
		writes  []error
		avail   uint64
		known   bool
		wantErr string // "" for none
		thenOK  bool   // a second check passes
	}{
		{name: "no failure", writes: []error{nil}, avail: 0, known: true},
		{name: "another failure", writes: []error{&fs.PathError{Op: "write", Path: path, Err: syscall.EIO}}, avail: 0, known: true},
		{name: "full", writes: []error{full}, avail: 4096, known: true, wantErr: "(4096 bytes free, 3145728 needed to grow the database)"},
		{name: "full, a success since does not clear it", writes: []error{full, nil}, avail: 1 << 20, known: true, wantErr: "no space left on device"},
		{name: "room again", writes: []error{full}, avail: 3 << 20, known: true, thenOK: true},
		{name: "free space unknown: said once", writes: []error{full}, known: false, wantErr: "the last write failed", thenOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spaceState{free: func(dir string) (uint64, bool) {
				if dir != filepath.Dir(path) {
					t.Errorf("free space asked of %q, want the data dir %q", dir, filepath.Dir(path))
				}
				return tt.avail, tt.known
			}}
			for _, err := range tt.writes {
				s.note(err)
			}
			err := s.check(path)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("check: %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("check: %v, want an error containing %q", err, tt.wantErr)
			case err != nil && !errors.Is(err, syscall.ENOSPC):
				t.Errorf("check: %v does not wrap the write's ENOSPC", err)
			}
			if tt.thenOK {
				if err := s.check(path); err != nil {
					t.Errorf("second check: %v, want nil", err)
				}
			}
		})
	}
}
