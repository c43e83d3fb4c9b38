package spool

import (
	"context"
	"fmt"
	"os"
)

// Ping reports whether the Store can accept calls: nil when the primary
// answers or, failing that, when the spool directory takes a file (a probe
// file is written, fsynced and removed). The error names both failures.
func (s *Store) Ping(ctx context.Context) error {
	perr := s.primary.Ping(ctx)
	if perr == nil {
		return nil
	}
	serr := s.probe()
	if serr == nil {
		return nil
	}
	return fmt.Errorf("spool: ping: primary: %w; spool directory: %w", perr, serr)
}

// probe writes, syncs and removes a file in the spool directory.
func (s *Store) probe() error {
	path, err := writeTemp(s.dir, []byte("probe\n"))
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove probe file: %w", err)
	}
	return nil
}
