// Package filewatch reports the content of one file each time it changes,
// for configuration that is reloaded while the process runs.
//
// It watches the file's directory, not the file: editors save by writing a
// new file and renaming it over the old one, and Kubernetes updates a
// mounted ConfigMap by swapping a "..data" symlink, and a watch on the
// file itself would be left on the old inode in both cases. When the path
// resolves through symlinks into another directory, that directory is
// watched too, and the watch follows the target when it moves.
//
// An event does not read the file at once: reading waits until the file
// has been quiet for the debounce time, so a file an editor is still
// writing is not read half-written (and if a pause in the writing was
// longer than that, the complete file, read after the next quiet spell,
// is reported after the partial one). A content identical to the one last
// reported (a touch, a save without edits, the same ConfigMap again) is
// not reported: a SHA-256 of the content decides.
//
// Where change notifications cannot be set up (inotify limits, a file
// system without them), the watcher logs a warning and polls the file's
// identity, size and modification time instead; polling misses an edit
// that keeps all three, which only a same-size rewrite within one clock
// tick does.
package filewatch

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults of Options.
const (
	DefaultDebounce     = 300 * time.Millisecond
	DefaultPollInterval = 5 * time.Second
	DefaultMaxSize      = 1 << 20
)

// Options tune a Watcher. Zero values take the defaults.
type Options struct {
	// Debounce is how long the file must stay quiet after a change before
	// it is read.
	Debounce time.Duration
	// PollInterval is how often the file is checked when change
	// notifications are unavailable.
	PollInterval time.Duration
	// MaxSize bounds the content: a larger file is logged and not reported.
	MaxSize int64
	Logger  *slog.Logger
}

// Watcher reports the content of one file when it changes. Create it with
// New and start it with Run.
type Watcher struct {
	path string // absolute, as given (not resolved)
	opts Options
	log  *slog.Logger

	// newNotifier sets up change notifications; tests replace it to
	// exercise the polling fallback.
	newNotifier func() (*fsnotify.Watcher, error)
	notifier    *fsnotify.Watcher // nil while polling

	last     [sha256.Size]byte // content last reported
	reported bool              // last is set
	seen     fingerprint       // the file as last looked at
	extraDir string            // watched directory of the resolved path, when not path's own
}

// New returns a watcher of the file at path.
func New(path string, opts Options) (*Watcher, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("filewatch: %s: %w", path, err)
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Watcher{path: abs, opts: opts, log: log.With("path", abs), newNotifier: fsnotify.NewWatcher}, nil
}

// Run calls changed with the file's content: once at the start, then
// after each change that settled on a content different from the one last
// reported, until ctx is done. changed runs on Run's goroutine, one call at
// a time; changes made while it runs are handled after it returns. A file
// that cannot be read is logged and checked again at its next change.
// Run never fails: without change notifications it polls.
func (w *Watcher) Run(ctx context.Context, changed func(content []byte)) {
	events, errs, closeNotifier := w.notifications()
	defer closeNotifier()
	var poll <-chan time.Time
	if events == nil {
		t := time.NewTicker(w.opts.PollInterval)
		defer t.Stop()
		poll = t.C
	}
	debounce := time.NewTimer(0) // the first check runs at once
	defer debounce.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-debounce.C:
			w.check(changed)
			w.followTarget()
		case <-poll:
			if w.moved() {
				debounce.Reset(w.opts.Debounce)
			}
		case ev, ok := <-events:
			if !ok {
				// The notifier died: keep going by polling.
				w.log.Warn("file change notifications stopped; polling instead", "interval", w.opts.PollInterval)
				events, errs, w.notifier = nil, nil, nil
				t := time.NewTicker(w.opts.PollInterval)
				defer t.Stop()
				poll = t.C
				continue
			}
			if w.relevant(ev) {
				debounce.Reset(w.opts.Debounce)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflowed queue may have dropped the event that mattered.
			w.log.Warn("file change notifications: error; checking the file", "err", err)
			debounce.Reset(w.opts.Debounce)
		}
	}
}

// notifications sets up change notifications on the file's directory
// (followTarget adds the directory it resolves into). Nil channels mean
// polling.
func (w *Watcher) notifications() (<-chan fsnotify.Event, <-chan error, func()) {
	nw, err := w.newNotifier()
	if err == nil {
		err = nw.Add(filepath.Dir(w.path))
		if err != nil {
			nw.Close()
			err = fmt.Errorf("watch %s: %w", filepath.Dir(w.path), err)
		}
	}
	if err != nil {
		w.log.Warn("file change notifications unavailable; polling instead", "err", err, "interval", w.opts.PollInterval)
		return nil, nil, func() {}
	}
	w.notifier = nw
	w.log.Info("watching file for changes", "debounce", w.opts.Debounce)
	return nw.Events, nw.Errors, func() { nw.Close() }
}

// relevant reports whether ev may have changed the file: an event on the
// file's name or on its resolved path, or any other event in a watched
// directory (a symlink on the way, such as a ConfigMap's "..data") after
// which the path leads to a different file, or one of another size or
// time, than when last looked at. Attribute changes alone are ignored.
func (w *Watcher) relevant(ev fsnotify.Event) bool {
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Rename) && !ev.Has(fsnotify.Remove) {
		return false
	}
	if ev.Name == w.path || ev.Name == w.seen.resolved {
		return true
	}
	return w.moved()
}

// check reads the file and reports its content if it differs from the
// content last reported.
func (w *Watcher) check(changed func([]byte)) {
	w.seen = statFile(w.path)
	data, err := w.read()
	if err != nil {
		w.log.Warn("cannot read the watched file; waiting for its next change", "err", err)
		return
	}
	sum := sha256.Sum256(data)
	if w.reported && sum == w.last {
		w.log.Debug("watched file changed on disk but not in content")
		return
	}
	w.last, w.reported = sum, true
	changed(data)
}

// read reads the whole file, refusing one larger than MaxSize.
func (w *Watcher) read() ([]byte, error) {
	f, err := os.Open(w.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, w.opts.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", w.path, err)
	}
	if int64(len(data)) > w.opts.MaxSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", w.path, w.opts.MaxSize)
	}
	return data, nil
}

// moved reports whether the path now leads elsewhere, or to a file of
// another size or modification time, than when last looked at, and
// remembers what it leads to now. Each change counts once, so that a
// steady stream of unrelated events (or polls) does not keep the debounce
// from ever ending.
func (w *Watcher) moved() bool {
	now := statFile(w.path)
	if now.same(w.seen) {
		return false
	}
	w.seen = now
	return true
}

// followTarget keeps a watch on the directory the path resolves into,
// when that is not the path's own directory: an edit of a symlink's
// target in place is seen there.
func (w *Watcher) followTarget() {
	if w.notifier == nil || w.seen.resolved == "" {
		return
	}
	dir := filepath.Dir(w.seen.resolved)
	if dir == filepath.Dir(w.path) {
		dir = ""
	}
	if dir == w.extraDir {
		return
	}
	if w.extraDir != "" {
		// Fails harmlessly when the directory is gone (a replaced ConfigMap
		// version): its watch ended with it.
		_ = w.notifier.Remove(w.extraDir)
	}
	w.extraDir = ""
	if dir != "" {
		if err := w.notifier.Add(dir); err != nil {
			w.log.Warn("cannot watch the directory the file resolves into; edits made there in place go unseen", "dir", dir, "err", err)
			return
		}
		w.extraDir = dir
	}
}

// fingerprint identifies what a path leads to, cheaply.
type fingerprint struct {
	resolved string // the path with symlinks resolved; "" when it does not resolve
	info     os.FileInfo
}

func statFile(path string) fingerprint {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fingerprint{}
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return fingerprint{resolved: resolved}
	}
	return fingerprint{resolved: resolved, info: info}
}

func (f fingerprint) same(g fingerprint) bool {
	if f.resolved != g.resolved || (f.info == nil) != (g.info == nil) {
		return false
	}
	if f.info == nil {
		return true
	}
	return os.SameFile(f.info, g.info) && f.info.Size() == g.info.Size() && f.info.ModTime().Equal(g.info.ModTime())
}
