package cli

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestStartPprof: the profiling endpoint listens only on loopback
// addresses, and serves the profiles there.
func TestStartPprof(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr string
	}{
		{addr: "127.0.0.1:0"},
		{addr: "localhost:0"},
		{addr: ":0", wantErr: "not a loopback address"},
		{addr: "0.0.0.0:0", wantErr: "not a loopback address"},
		{addr: "192.0.2.1:6060", wantErr: "not a loopback address"},
		{addr: "example.com:6060", wantErr: "not a loopback address"},
		{addr: "6060", wantErr: "missing port"},
	}
	log := slog.New(slog.DiscardHandler)
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			bound, stop, err := startPprof(tt.addr, log)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("startPprof(%q) = %v, want an error with %q", tt.addr, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("startPprof(%q) = %v, want nil", tt.addr, err)
			}
			defer stop()
			res, err := http.Get("http://" + bound + "/debug/pprof/cmdline")
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(res.Body)
			_ = res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK || len(body) == 0 {
				t.Fatalf("GET /debug/pprof/cmdline = %d %q, %v; want 200 with the command line", res.StatusCode, body, err)
			}
		})
	}
}

// TestSampleHeap: allocations are sampled only for the profiling endpoint,
// or when GODEBUG asks for a rate itself.
func TestSampleHeap(t *testing.T) {
	tests := []struct {
		pprofAddr, godebug string
		want               bool
	}{
		{"", "", false},
		{"", "gctrace=1", false},
		{"127.0.0.1:6060", "", true},
		{"", "memprofilerate=1", true},
		{"", "gctrace=1,memprofilerate=0", true},
	}
	for _, tt := range tests {
		if got := sampleHeap(tt.pprofAddr, tt.godebug); got != tt.want {
			t.Errorf("sampleHeap(%q, %q) = %v, want %v", tt.pprofAddr, tt.godebug, got, tt.want)
		}
	}
}
