package spool_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/spool"
)

func TestOpenRefuses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		primary spool.Primary
	}{
		{"no directory", "", down},
		{"no primary", t.TempDir(), nil},
		{"directory is a file", file, down},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := spool.Open(tc.dir, tc.primary, spool.Options{})
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%q) = nil error, want an error", tc.dir)
			}
		})
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "spool")
	s := openSpool(t, dir, down, spool.Options{})
	info, err := os.Stat(dir)
	if err != nil || !info.IsDir() {
		t.Fatalf("Stat(%s) = %v, %v; want a directory", dir, info, err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode = %v, want 0700", perm)
	}
	wantPending(t, s, 0)
}

func TestOneStorePerDirectory(t *testing.T) {
	dir := t.TempDir()
	first, err := spool.Open(dir, down, spool.Options{})
	if err != nil {
		t.Fatalf("first Open = %v", err)
	}
	second, err := spool.Open(dir, down, spool.Options{})
	if err == nil {
		_ = second.Close()
		t.Fatal("second Open of a directory in use = nil error, want an error")
	}
	if !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Open = %v, want an error saying the directory is in use", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	third := openSpool(t, dir, down, spool.Options{})
	wantPending(t, third, 0)
}

func TestOpenRecovers(t *testing.T) {
	dir := t.TempDir()
	s := openSpool(t, dir, down, spool.Options{})
	for _, sid := range []string{"CA1", "CA2", "CA:3"} {
		call := newCall(sid)
		if err := s.Accept(t.Context(), call, plan(call, "r")); err != nil {
			t.Fatalf("Accept(%s) while the primary is down = %v, want nil", sid, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash mid-write leaves a temporary file; an operator's file is
	// left alone.
	leftovers := map[string]bool{".tmp-123456": false, ".tmp-probe": false, "README": true}
	for name := range leftovers {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"version":1,"call":{"sid":"CA9"}}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	reopened := openSpool(t, dir, down, spool.Options{})
	wantPending(t, reopened, 3)
	for name, kept := range leftovers {
		_, err := os.Stat(filepath.Join(dir, name))
		if got := err == nil; got != kept {
			t.Errorf("%s exists after Open: %v, want %v (Stat: %v)", name, got, kept, err)
		}
	}
	// The spooled Sids are still known.
	call := newCall("CA:3")
	if err := reopened.Accept(t.Context(), call, plan(call, "r")); !isDuplicate(err) {
		t.Errorf("Accept(CA:3) after reopening = %v, want ErrDuplicate", err)
	}
}
