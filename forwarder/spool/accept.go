package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Accept stores call and its deliveries in the primary or, when the
// primary is unavailable (Options.IsUnavailable), in the spool. A nil
// error means the call is durable in one of them.
//
// It returns store.ErrDuplicate for an event of a Sid that is still
// spooled (without asking the primary) and for one the primary already
// holds. Other
// errors of the primary are returned as they come. When the primary is
// unavailable and the spool cannot take the call either, the error wraps
// both.
func (s *Store) Accept(ctx context.Context, call *forwarder.Call, deliveries []forwarder.Delivery) error {
	if call == nil {
		return errors.New("spool: accept: no call")
	}
	if name, err := fileName(call.Sid, call.Event); err == nil {
		spooled, err := s.has(name)
		if err != nil {
			s.log.WarnContext(ctx, "spool: duplicate check failed", "call_sid", call.Sid, "err", err)
		}
		if spooled {
			return fmt.Errorf("spool: accept %s: %w", call.Sid, store.ErrDuplicate)
		}
	}
	// While the primary is known to be down, skip it for a short while:
	// asking it costs each webhook the client's connection retries.
	var perr error
	if down := s.downSince.Load(); down != 0 && time.Since(time.Unix(0, down)) < primaryRetryAfter {
		perr = errPrimarySkipped
	} else {
		perr = s.primary.Accept(ctx, call, deliveries)
		if perr == nil || !s.opts.IsUnavailable(perr) {
			s.downSince.Store(0)
			return perr
		}
		s.downSince.Store(time.Now().UnixNano())
	}
	serr := s.write(call, deliveries)
	switch {
	case serr == nil:
		s.log.WarnContext(ctx, "spool: call spooled, primary unavailable", "call_sid", call.Sid, "deliveries", len(deliveries), "err", perr)
		return nil
	case errors.Is(serr, store.ErrDuplicate):
		return fmt.Errorf("spool: accept %s: %w", call.Sid, serr)
	}
	return fmt.Errorf("spool: accept %s: primary: %w; spool: %w", call.Sid, perr, serr)
}

// primaryRetryAfter is how long Accept sends calls straight to the spool
// after the primary was found unavailable, before asking it again.
const primaryRetryAfter = 2 * time.Second

// errPrimarySkipped stands for the primary's error while it is skipped.
var errPrimarySkipped = errors.New("primary unavailable (skipped for a moment after a failure)")

// has reports whether the file name is spooled. It waits for a write in
// progress, so that a Sid is never reported spooled before its file is
// durable.
func (s *Store) has(name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return exists(s.dir, name)
}

// write spools call and deliveries: to a temporary file, fsynced, then
// renamed to the Sid's file name and the directory fsynced. It returns
// store.ErrDuplicate when the Sid is spooled already.
func (s *Store) write(call *forwarder.Call, deliveries []forwarder.Delivery) error {
	name, data, err := encode(call, deliveries, time.Now())
	if err != nil {
		return err
	}
	// The slow part, writing and syncing the data, runs outside the lock.
	tmp, err := writeTemp(s.dir, data)
	if err != nil {
		return err
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = os.Remove(tmp)
		}
	}()
	s.mu.Lock()
	defer s.mu.Unlock()
	spooled, err := exists(s.dir, name)
	if err != nil {
		return err
	}
	if spooled {
		return store.ErrDuplicate
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	renamed = true
	// Were this to fail, the file may still be lost in a crash: the call
	// is not acknowledged, and a copy of it finds the file, or does not.
	return syncDir(s.dir)
}
