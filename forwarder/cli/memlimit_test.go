package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestParseMemoryLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{in: "96MiB", want: 96 << 20},
		{in: "80MiB", want: 80 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "2TiB", want: 2 << 40},
		{in: "512KiB", want: 512 << 10},
		{in: "1000B", want: 1000},
		{in: "268435456", want: 256 << 20}, // as Kubernetes' resourceFieldRef writes it
		{in: " 64MiB ", want: 64 << 20},
		{in: "off", want: noMemoryLimit},
		{in: "0", wantErr: "above zero"},
		{in: "0MiB", wantErr: "above zero"},
		{in: "96MB", wantErr: "want a size"},
		{in: "96 MiB", wantErr: "want a size"},
		{in: "-5MiB", wantErr: "want a size"},
		{in: "+5MiB", wantErr: "want a size"},
		{in: "MiB", wantErr: "want a size"},
		{in: "", wantErr: "want a size"},
		{in: "1.5GiB", wantErr: "want a size"},
		{in: "9000000TiB", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseMemoryLimit(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseMemoryLimit(%q) = %d, %v; want an error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseMemoryLimit(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatMemoryLimit(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{80 << 20, "80MiB"},
		{1 << 30, "1GiB"},
		{1536 << 20, "1536MiB"},
		{1000, "1000B"},
		{3 << 10, "3KiB"},
		{noMemoryLimit, "off"},
	}
	for _, tt := range tests {
		if got := formatMemoryLimit(tt.in); got != tt.want {
			t.Errorf("formatMemoryLimit(%d) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.in == noMemoryLimit {
			continue
		}
		back, err := parseMemoryLimit(tt.want)
		if err != nil || back != tt.in {
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d back", tt.want, back, err, tt.in)
		}
	}
}

// TestApplyMemoryLimit sets the process's memory limit, so it does not run
// in parallel, and puts back the limit it found.
func TestApplyMemoryLimit(t *testing.T) {
	was := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(was) })
	// What the runtime holds when GOMEMLIMIT is set: the runtime read it
	// at start, so the test sets the limit itself and then sets the
	// variable, as the process would have it.
	const fromEnv = 123 << 20

	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		gomem     string // GOMEMLIMIT; the runtime limit is then fromEnv
		want      int64
		wantLog   []string
		wantLevel string
	}{
		{name: "default", want: defaultMemoryLimit, wantLog: []string{"limit=80MiB", "source=default"}, wantLevel: "INFO"},
		{name: "flag", args: []string{"--memory-limit", "96MiB"}, want: 96 << 20, wantLog: []string{"limit=96MiB", "source=--memory-limit"}, wantLevel: "INFO"},
		{name: "environment twin", env: map[string]string{"FORWARDER_MEMORY_LIMIT": "1GiB"}, want: 1 << 30, wantLog: []string{"limit=1GiB", "source=--memory-limit"}, wantLevel: "INFO"},
		{name: "off", args: []string{"--memory-limit=off"}, want: noMemoryLimit, wantLog: []string{"limit=off"}, wantLevel: "INFO"},
		{name: "GOMEMLIMIT alone", gomem: "123MiB", want: fromEnv, wantLog: []string{"limit=123MiB", "source=GOMEMLIMIT"}, wantLevel: "INFO"},
		{name: "GOMEMLIMIT wins over the flag", gomem: "123MiB", args: []string{"--memory-limit", "96MiB"}, want: fromEnv,
			wantLog: []string{"GOMEMLIMIT is set and wins", "limit=123MiB", "ignored=96MiB"}, wantLevel: "WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetMemoryLimit(noMemoryLimit)
			t.Setenv("GOMEMLIMIT", "")
			if tt.gomem != "" {
				t.Setenv("GOMEMLIMIT", tt.gomem)
				debug.SetMemoryLimit(fromEnv)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			declareMemoryLimit(fs)
			if err := parse(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			got := applyMemoryLimit(fs, slog.New(slog.NewTextHandler(&logs, nil)))
			if got != tt.want {
				t.Errorf("applyMemoryLimit = %d, want %d", got, tt.want)
			}
			if inForce := debug.SetMemoryLimit(-1); inForce != tt.want {
				t.Errorf("runtime memory limit = %d, want %d", inForce, tt.want)
			}
			out := logs.String()
			for _, w := range append(tt.wantLog, "level="+tt.wantLevel) {
				if !strings.Contains(out, w) {
					t.Errorf("log %q lacks %q", out, w)
				}
			}
		})
	}
}

func TestMemoryLimitFlagRefusesBadValues(t *testing.T) {
	for _, v := range []string{"0", "lots", "96MB"} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		declareMemoryLimit(fs)
		if err := parse(fs, []string{"--memory-limit", v}); err == nil {
			t.Errorf("--memory-limit %s: no error", v)
		}
	}
}

func TestTidierTicks(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name   string
		allocs []uint64 // allocation totals at successive ticks (from 0)
		want   []bool   // whether each tick returns memory
	}{
		{name: "quiet from the start: once", allocs: []uint64{mib, 2 * mib, 3 * mib}, want: []bool{true, false, false}},
		{name: "busy, then quiet: once, at the first quiet tick", allocs: []uint64{100 * mib, 200 * mib, 201 * mib, 202 * mib}, want: []bool{false, false, true, false}},
		{name: "busy again: once more", allocs: []uint64{100 * mib, 101 * mib, 200 * mib, 201 * mib, 201 * mib}, want: []bool{false, true, false, true, false}},
		{name: "always busy: never", allocs: []uint64{10 * mib, 20 * mib, 30 * mib}, want: []bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := &tidier{quiet: 4 * mib}
			for i, a := range tt.allocs {
				if got := td.tick(a); got != tt.want[i] {
					t.Errorf("tick %d (allocs %d MiB): %v, want %v", i, a/mib, got, tt.want[i])
				}
			}
		})
	}
}

// sink keeps the test's allocations from being optimised away.
var sink [][]byte

// TestKeepTidyReturnsMemory makes garbage, then goes quiet, and expects
// the tidier to hand the freed heap back to the system well before the
// runtime's own forced collection (two minutes) would.
func TestKeepTidyReturnsMemory(t *testing.T) {
	debug.FreeOSMemory()
	base := retained()
	for range 64 {
		sink = append(sink, make([]byte, 1<<20))
	}
	sink = nil // 64 MiB of garbage, not collected yet
	if grown := retained() - base; grown < 32<<20 {
		t.Fatalf("the runtime holds only %d MiB more after allocating 64 MiB", grown>>20)
	}
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		keepTidy(ctx, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), 50*time.Millisecond, 4<<20)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for retained() > base+16<<20 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if now := retained(); now > base+16<<20 {
		t.Fatalf("runtime still holds %d MiB over the start after 10s", (now-base)>>20)
	}
	if !strings.Contains(logs.String(), "memory returned to the system") {
		t.Errorf("no log line of the tidying: %q", logs.String())
	}
}
