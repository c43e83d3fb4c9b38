package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/callforward/callforward/forwarder/store"
)

// Drain moves spooled calls into the primary until ctx is done: a round
// (DrainOnce) at once, then one every Options.Interval. It logs when the
// rounds stop for an unavailable primary and when they resume, and
// returns nil when ctx is done.
func (s *Store) Drain(ctx context.Context) error {
	ticker := time.NewTicker(s.opts.Interval)
	defer ticker.Stop()
	paused := ""
	for {
		moved, err := s.DrainOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		switch {
		case err != nil && err.Error() != paused:
			pending, _ := s.Pending()
			s.log.WarnContext(ctx, "spool: drain paused", "pending", pending, "err", err)
			paused = err.Error()
		case err == nil && paused != "":
			s.log.InfoContext(ctx, "spool: drain resumed")
			paused = ""
		}
		if moved > 0 {
			pending, _ := s.Pending()
			s.log.InfoContext(ctx, "spool: calls moved to the primary", "moved", moved, "pending", pending)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// DrainOnce runs one drain round. When calls are spooled and the primary
// answers Ping, it hands each spooled call, oldest first, to the
// primary's Accept:
//
//   - nil or store.ErrDuplicate (the primary had the Sid already: a copy
//     sent meanwhile, or the same file sent before a crash): the file is
//     removed;
//   - an unavailable primary (Options.IsUnavailable) that then fails Ping
//     too: the round stops and the error says why;
//   - any other error, and a file that cannot be read: the file is kept,
//     logged once per reason, and the round goes on with the next one.
//
// moved counts the files removed. The round stops with ctx's error when
// ctx is done.
func (s *Store) DrainOnce(ctx context.Context) (moved int, err error) {
	s.drainMu.Lock()
	defer s.drainMu.Unlock()
	files, err := s.list()
	if err != nil {
		return 0, fmt.Errorf("spool: drain: %w", err)
	}
	s.forgetStuck(files)
	if len(files) == 0 {
		if s.downSince.Load() != 0 && s.primary.Ping(ctx) == nil {
			s.downSince.Store(0)
		}
		return 0, nil
	}
	if err := s.primary.Ping(ctx); err != nil {
		return 0, fmt.Errorf("spool: drain: primary unavailable: %w", err)
	}
	s.downSince.Store(0) // the primary answers: intake may use it again
	notify := false
	defer func() {
		if moved > 0 {
			// Removals need not be durable (a file back after a crash is a
			// duplicate), but syncing once spares re-sending them.
			if serr := syncDir(s.dir); serr != nil {
				s.log.WarnContext(ctx, "spool: drain: sync directory", "err", serr)
			}
		}
		if notify {
			s.opts.Notify()
		}
	}()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return moved, fmt.Errorf("spool: drain: %w", err)
		}
		deliveries, err := s.move(ctx, f.name)
		if errors.Is(err, errGone) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return moved, fmt.Errorf("spool: drain: %w", err)
			}
			if !errors.Is(err, errPrimaryDown) {
				s.markStuck(ctx, f.name, err)
				continue
			}
			return moved, fmt.Errorf("spool: drain: %w", err)
		}
		delete(s.stuck, f.name)
		moved++
		notify = notify || deliveries > 0
	}
	return moved, nil
}

// Errors of move that DrainOnce tells apart.
var (
	// errPrimaryDown ends the round: the primary cannot be reached.
	errPrimaryDown = errors.New("primary unavailable")
	// errGone means the file was removed by someone else meanwhile.
	errGone = errors.New("file gone")
)

// move hands the spooled call in file name to the primary and removes the
// file once the primary holds the call. It returns the number of
// deliveries the primary took (0 for a duplicate). An error wrapping
// errPrimaryDown means the primary cannot be reached, errGone that the
// file no longer exists.
func (s *Store) move(ctx context.Context, name string) (deliveries int, err error) {
	path := filepath.Join(s.dir, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, errGone
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", name, err)
	}
	r, err := decode(name, data)
	if err != nil {
		return 0, err
	}
	err = s.primary.Accept(ctx, r.Call, r.Deliveries)
	switch {
	case err == nil:
		deliveries = len(r.Deliveries)
		s.log.InfoContext(ctx, "spool: call moved to the primary", "call_sid", r.Call.Sid, "deliveries", deliveries)
	case errors.Is(err, store.ErrDuplicate):
		s.log.InfoContext(ctx, "spool: call already in the primary, dropped from the spool", "call_sid", r.Call.Sid)
	case ctx.Err() != nil:
		return 0, err
	case s.opts.IsUnavailable(err):
		// The primary answered Ping a moment ago: ask again, so that an
		// error of this call alone does not hold up the calls behind it.
		if perr := s.primary.Ping(ctx); perr != nil {
			return 0, fmt.Errorf("move %s: %w: %w", r.Call.Sid, errPrimaryDown, err)
		}
		return 0, fmt.Errorf("move %s: %w", r.Call.Sid, err)
	default:
		return 0, fmt.Errorf("move %s: %w", r.Call.Sid, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		// The primary holds the call: the next round finds it duplicate.
		return deliveries, fmt.Errorf("remove %s: %w", name, err)
	}
	return deliveries, nil
}

// markStuck logs that the file name stays in the spool for err, unless the
// same reason was logged before.
func (s *Store) markStuck(ctx context.Context, name string, err error) {
	if s.stuck[name] == err.Error() {
		return
	}
	s.stuck[name] = err.Error()
	s.log.ErrorContext(ctx, "spool: call kept in the spool", "file", name, "err", err)
}

// forgetStuck drops the stuck reasons of files that are no longer spooled.
func (s *Store) forgetStuck(files []spoolFile) {
	if len(s.stuck) == 0 {
		return
	}
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		keep[f.name] = true
	}
	for name := range s.stuck {
		if !keep[name] {
			delete(s.stuck, name)
		}
	}
}
