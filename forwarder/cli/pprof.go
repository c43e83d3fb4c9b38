package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"sync"
	"time"
)

// sampleHeap reports whether serve keeps the runtime's sampling of
// allocations on: only with the profiling endpoint (pprofAddr), whose heap
// and allocs profiles are what the samples are for, or when GODEBUG sets
// memprofilerate itself. Otherwise the samples' buckets would only hold
// memory (1-2 MiB after a busy spell) for as long as the process runs.
func sampleHeap(pprofAddr, godebug string) bool {
	return pprofAddr != "" || strings.Contains(godebug, "memprofilerate=")
}

// heapSamplingOff turns the sampling off once per process.
var heapSamplingOff sync.Once

// stopHeapSampling sets runtime.MemProfileRate to 0: no allocation is
// sampled from then on.
func stopHeapSampling() {
	heapSamplingOff.Do(func() { runtime.MemProfileRate = 0 })
}

// pprofFlag is the serve flag that turns the profiling endpoint on.
const pprofFlag = "pprof-addr"

// startPprof serves the Go runtime profiles (net/http/pprof, under
// /debug/pprof/) on addr, which must be a loopback address: the profiles
// show the process's memory and stacks, so they are never offered to the
// network. It returns the address it listens on and a function that stops
// the server.
func startPprof(addr string, log *slog.Logger) (bound string, stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("--%s %q: %w", pprofFlag, addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", nil, fmt.Errorf("--%s %q: not a loopback address (use 127.0.0.1:PORT or localhost:PORT)", pprofFlag, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--%s: %w", pprofFlag, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("profiling endpoint stopped", "err", err)
		}
	}()
	log.Info("profiling endpoint listening", "addr", ln.Addr().String())
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
