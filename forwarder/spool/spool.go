package spool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// Primary is the store the spool stands in for: the shared Redis store.
type Primary interface {
	Accept(ctx context.Context, call *forwarder.Call, deliveries []forwarder.Delivery) error
	Ping(ctx context.Context) error
}

// DefaultInterval is how often Drain looks for spooled calls when
// Options.Interval is zero.
const DefaultInterval = time.Second

// Options tune a Store. Zero values are fine.
type Options struct {
	// Logger receives one line per spooled call and per drain decision
	// (default: discard).
	Logger *slog.Logger
	// Interval is how often Drain looks for spooled calls (default
	// DefaultInterval).
	Interval time.Duration
	// IsUnavailable reports whether an error of the primary's Accept means
	// the primary cannot be reached, so the call is to be spooled (default:
	// every error but store.ErrDuplicate and context errors).
	IsUnavailable func(error) bool
	// Notify, when set, is called after a drain round that moved calls
	// with deliveries into the primary, so idle delivery workers can start.
	Notify func()
}

// Store wraps the primary store's Accept with a local spool. It is safe
// for concurrent use.
type Store struct {
	dir     string
	primary Primary
	opts    Options
	log     *slog.Logger
	lock    *os.File

	// mu serialises the publication of spool files (duplicate check,
	// rename, directory sync) and the duplicate checks of Accept.
	mu sync.Mutex

	// downSince is when the primary was last found unavailable (unix
	// nanoseconds; 0: not known to be down).
	downSince atomic.Int64

	// drainMu serialises drain rounds; stuck is theirs.
	drainMu sync.Mutex
	// stuck holds the last error logged for each file the primary would
	// not take, so that a file is logged once per reason, not every round.
	stuck map[string]string

	closeOnce sync.Once
	closeErr  error
}

// DefaultIsUnavailable is the default of Options.IsUnavailable: every
// error but store.ErrDuplicate and context errors means the primary is
// unavailable.
func DefaultIsUnavailable(err error) bool {
	return err != nil &&
		!errors.Is(err, store.ErrDuplicate) &&
		!errors.Is(err, context.Canceled) &&
		!errors.Is(err, context.DeadlineExceeded)
}

// Open opens the spool in dir, creating the directory when missing, in
// front of primary. It locks the directory for this Store, removes the
// temporary files a crash left mid-write and keeps every spooled call for
// Drain. Close releases the directory.
func Open(dir string, primary Primary, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("spool: open: no directory")
	}
	if primary == nil {
		return nil, errors.New("spool: open: no primary store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.IsUnavailable == nil {
		opts.IsUnavailable = DefaultIsUnavailable
	}
	if opts.Notify == nil {
		opts.Notify = func() {}
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: open: %w", err)
	}
	// Make the directory's own entry durable, in case it was just made.
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", dir, err)
	}
	lock, err := lockFile(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("spool: open %s: %w", dir, err)
	}
	s := &Store{dir: dir, primary: primary, opts: opts, log: opts.Logger, lock: lock, stuck: map[string]string{}}
	if err := s.recover(); err != nil {
		_ = lock.Close()
		return nil, fmt.Errorf("spool: open %s: %w", dir, err)
	}
	return s, nil
}

// recover removes the temporary files left by a crash and reports the
// calls waiting.
func (s *Store) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	removed, pending := 0, 0
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), tempPrefix):
			if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove temporary file: %w", err)
			}
			removed++
		case isCallFile(e.Name()):
			pending++
		}
	}
	if removed > 0 {
		if err := syncDir(s.dir); err != nil {
			return err
		}
		s.log.Info("spool: removed temporary files of an interrupted write", "dir", s.dir, "files", removed)
	}
	if pending > 0 {
		s.log.Info("spool: calls waiting from an earlier run", "dir", s.dir, "pending", pending)
	}
	return nil
}

// Close releases the spool directory. Spooled calls stay on disk for the
// next Open. Stop Drain before closing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.lock.Close(); err != nil {
			s.closeErr = fmt.Errorf("spool: close: %w", err)
		}
	})
	return s.closeErr
}

// Pending returns how many spooled calls wait to be moved into the
// primary.
func (s *Store) Pending() (int, error) {
	files, err := s.list()
	if err != nil {
		return 0, fmt.Errorf("spool: pending: %w", err)
	}
	return len(files), nil
}

// spoolFile is a spooled call's file, as listed.
type spoolFile struct {
	name    string
	modTime time.Time
}

// list returns the spooled calls' files, oldest first (by modification
// time, then name).
func (s *Store) list() ([]spoolFile, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.dir, err)
	}
	files := make([]spoolFile, 0, len(entries))
	for _, e := range entries {
		if !e.Type().IsRegular() || !isCallFile(e.Name()) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue // drained meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", e.Name(), err)
		}
		files = append(files, spoolFile{name: e.Name(), modTime: info.ModTime()})
	}
	slices.SortFunc(files, func(a, b spoolFile) int {
		return cmp.Or(a.modTime.Compare(b.modTime), strings.Compare(a.name, b.name))
	})
	return files, nil
}
