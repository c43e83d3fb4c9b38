package filewatch

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/logtest"

	"github.com/fsnotify/fsnotify"
)

const testDebounce = 150 * time.Millisecond

// quiet is how long a test waits to be sure nothing more is reported.
const quiet = 4 * testDebounce

// step is one change to the file system and what must be reported after it.
type step struct {
	do   func(t *testing.T, dir string)
	want []string
}

func TestWatch(t *testing.T) {
	tests := []struct {
		name string
		// setup makes the files and returns the path to watch.
		setup func(t *testing.T, dir string) string
		steps []step
	}{
		{
			name:  "write in place",
			setup: plainFile("v1"),
			steps: []step{
				{do: writeFile("rules.yaml", "v2"), want: []string{"v2"}},
				{do: writeFile("rules.yaml", "v3"), want: []string{"v3"}},
			},
		},
		{
			name:  "rename over (atomic replace)",
			setup: plainFile("v1"),
			steps: []step{
				{do: replaceFile("rules.yaml", "v2"), want: []string{"v2"}},
				{do: replaceFile("rules.yaml", "v3"), want: []string{"v3"}},
			},
		},
		{
			name:  "editor that renames the old file away first",
			setup: plainFile("v1"),
			steps: []step{
				{do: func(t *testing.T, dir string) {
					must(t, os.Rename(filepath.Join(dir, "rules.yaml"), filepath.Join(dir, "rules.yaml~")))
					writeFile("rules.yaml", "v2")(t, dir)
					must(t, os.Remove(filepath.Join(dir, "rules.yaml~")))
				}, want: []string{"v2"}},
			},
		},
		{
			name:  "ConfigMap symlink swap",
			setup: configMap("v1"),
			steps: []step{
				{do: swapConfigMap("..2", "v2", "..1"), want: []string{"v2"}},
				{do: swapConfigMap("..3", "v3", "..2"), want: []string{"v3"}},
				// The same content in a new version directory: no reload.
				{do: swapConfigMap("..4", "v3", "..3"), want: nil},
			},
		},
		{
			name: "symlink into another directory, target edited in place",
			setup: func(t *testing.T, dir string) string {
				must(t, os.Mkdir(filepath.Join(dir, "real"), 0o755))
				writeFile("real/rules.yaml", "v1")(t, dir)
				must(t, os.Symlink(filepath.Join(dir, "real", "rules.yaml"), filepath.Join(dir, "rules.yaml")))
				return filepath.Join(dir, "rules.yaml")
			},
			steps: []step{
				{do: writeFile("real/rules.yaml", "v2"), want: []string{"v2"}},
				{do: replaceFile("real/rules.yaml", "v3"), want: []string{"v3"}},
			},
		},
		{
			name:  "half-written file read after a long pause, then the complete one",
			setup: plainFile("v1"),
			steps: []step{
				// The writer stalls longer than the debounce: the partial
				// content is reported (and refused by its user)...
				{do: writeFile("rules.yaml", "rules: [{name: a, se"), want: []string{"rules: [{name: a, se"}},
				// ...and the completed file replaces it.
				{do: appendFile("rules.yaml", "nd: []}]"), want: []string{"rules: [{name: a, send: []}]"}},
			},
		},
		{
			name:  "slow writer pausing less than the debounce",
			setup: plainFile("v1"),
			steps: []step{
				{do: func(t *testing.T, dir string) {
					writeFile("rules.yaml", "part one,")(t, dir)
					for _, s := range []string{" part two,", " part three"} {
						time.Sleep(testDebounce / 5)
						appendFile("rules.yaml", s)(t, dir)
					}
				}, want: []string{"part one, part two, part three"}},
			},
		},
		{
			name:  "no-op changes",
			setup: plainFile("v1"),
			steps: []step{
				{do: func(t *testing.T, dir string) {
					later := time.Now().Add(time.Hour)
					must(t, os.Chtimes(filepath.Join(dir, "rules.yaml"), later, later))
				}, want: nil},
				{do: writeFile("rules.yaml", "v1"), want: nil},
				{do: replaceFile("rules.yaml", "v1"), want: nil},
				{do: writeFile("other.yaml", "unrelated"), want: nil},
				{do: writeFile("rules.yaml", "v2"), want: []string{"v2"}},
			},
		},
		{
			name:  "removed, then back with new content",
			setup: plainFile("v1"),
			steps: []step{
				{do: func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "rules.yaml"))) }, want: nil},
				{do: writeFile("rules.yaml", "v2"), want: []string{"v2"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := tc.setup(t, dir)
			w, err := New(path, Options{Debounce: testDebounce, PollInterval: time.Hour})
			must(t, err)
			reports := runWatcher(t, w)
			expect(t, reports, "at start", "v1")
			for i, s := range tc.steps {
				s.do(t, dir)
				expect(t, reports, "after step "+string(rune('1'+i)), s.want...)
			}
		})
	}
}

// TestPollingFallback: when change notifications cannot be set up, a
// warning is logged and changes are still seen, by polling.
func TestPollingFallback(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := plainFile("v1")(t, dir)
	logs := &logtest.Buffer{}
	w, err := New(path, Options{Debounce: testDebounce, PollInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	must(t, err)
	w.newNotifier = func() (*fsnotify.Watcher, error) { return nil, errors.New("too many open files") }
	reports := runWatcher(t, w)
	expect(t, reports, "at start", "v1")
	if !strings.Contains(logs.String(), "polling instead") || !strings.Contains(logs.String(), "too many open files") {
		t.Errorf("no warning about the fallback:\n%s", logs)
	}
	replaceFile("rules.yaml", "v2")(t, dir)
	expect(t, reports, "after a replace", "v2")
	writeFile("rules.yaml", "v3, longer")(t, dir)
	expect(t, reports, "after a write", "v3, longer")
	later := time.Now().Add(time.Hour)
	must(t, os.Chtimes(path, later, later))
	expect(t, reports, "after a touch")
}

// TestNotifyModeLogged: the normal mode says so, and the watch is set up
// on the directory, not the file.
func TestNotifyModeLogged(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := plainFile("v1")(t, dir)
	logs := &logtest.Buffer{}
	w, err := New(path, Options{Debounce: testDebounce, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	must(t, err)
	reports := runWatcher(t, w)
	expect(t, reports, "at start", "v1")
	if s := logs.String(); !strings.Contains(s, "watching file for changes") || strings.Contains(s, "polling") {
		t.Errorf("logs do not show notify mode:\n%s", s)
	}
}

// TestTooLarge: a file over MaxSize is logged and not reported.
func TestTooLarge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := plainFile("v1")(t, dir)
	logs := &logtest.Buffer{}
	w, err := New(path, Options{Debounce: testDebounce, MaxSize: 8, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	must(t, err)
	reports := runWatcher(t, w)
	expect(t, reports, "at start", "v1")
	writeFile("rules.yaml", "0123456789")(t, dir)
	expect(t, reports, "after an oversized write")
	if !strings.Contains(logs.String(), "larger than 8 bytes") {
		t.Errorf("the oversized file was not logged:\n%s", logs)
	}
	writeFile("rules.yaml", "01234567")(t, dir)
	expect(t, reports, "after a fitting write", "01234567")
}

func runWatcher(t *testing.T, w *Watcher) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reports := make(chan string, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, func(b []byte) { reports <- string(b) })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
	return reports
}

// expect receives exactly want from reports, in order, then nothing more
// for a while.
func expect(t *testing.T, reports <-chan string, when string, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-reports:
			if got != w {
				t.Fatalf("%s: reported %q, want %q", when, got, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: %q not reported within 5s", when, w)
		}
	}
	select {
	case got := <-reports:
		t.Fatalf("%s: unexpected report %q", when, got)
	case <-time.After(quiet):
	}
}

func plainFile(content string) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string {
		writeFile("rules.yaml", content)(t, dir)
		return filepath.Join(dir, "rules.yaml")
	}
}

func writeFile(name, content string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
}

func appendFile(name, content string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND, 0)
		must(t, err)
		_, err = f.WriteString(content)
		must(t, errors.Join(err, f.Close()))
	}
}

// replaceFile writes a temporary file and renames it over name.
func replaceFile(name, content string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		tmp := filepath.Join(dir, filepath.Dir(name), ".tmp-"+filepath.Base(name))
		must(t, os.WriteFile(tmp, []byte(content), 0o600))
		must(t, os.Rename(tmp, filepath.Join(dir, name)))
	}
}

// configMap lays out dir like a mounted Kubernetes ConfigMap: rules.yaml
// -> ..data/rules.yaml, ..data -> ..1.
func configMap(content string) func(*testing.T, string) string {
	return func(t *testing.T, dir string) string {
		must(t, os.Mkdir(filepath.Join(dir, "..1"), 0o755))
		writeFile("..1/rules.yaml", content)(t, dir)
		must(t, os.Symlink("..1", filepath.Join(dir, "..data")))
		must(t, os.Symlink("..data/rules.yaml", filepath.Join(dir, "rules.yaml")))
		return filepath.Join(dir, "rules.yaml")
	}
}

// swapConfigMap updates the ConfigMap as the kubelet does: a new version
// directory, a temporary symlink to it renamed over ..data, the old version
// removed.
func swapConfigMap(version, content, old string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		must(t, os.Mkdir(filepath.Join(dir, version), 0o755))
		writeFile(version+"/rules.yaml", content)(t, dir)
		must(t, os.Symlink(version, filepath.Join(dir, "..data_tmp")))
		must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
		must(t, os.RemoveAll(filepath.Join(dir, old)))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
