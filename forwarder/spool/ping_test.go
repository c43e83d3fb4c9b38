package spool_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/spool"
)

func TestPing(t *testing.T) {
	up := fakePrimary{
		accept: func(*forwarder.Call) error { return nil },
		ping:   func() error { return nil },
	}
	tests := []struct {
		name     string
		primary  spool.Primary
		dirGone  bool
		wantErrs []error // nil: Ping succeeds
	}{
		{"primary up", up, false, nil},
		{"primary up, spool directory gone", up, true, nil},
		{"primary down, spool writable", down, false, nil},
		{"both down", down, true, []error{errDown, syscall.ENOTDIR}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openSpool(t, dir, tc.primary, spool.Options{})
			if tc.dirGone {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dir, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := s.Ping(t.Context())
			if tc.wantErrs == nil {
				if err != nil {
					t.Fatalf("Ping = %v, want nil", err)
				}
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if strings.HasPrefix(e.Name(), ".tmp-") {
						t.Errorf("Ping left %s behind", e.Name())
					}
				}
				return
			}
			for _, want := range tc.wantErrs {
				if !errors.Is(err, want) {
					t.Errorf("Ping = %v, want it to wrap %v", err, want)
				}
			}
		})
	}
}
