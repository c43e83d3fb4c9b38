package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

func emulate(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("emulate", io)
	listen := fs.String("listen", "127.0.0.1:9090", "address to listen on")
	seed := fs.Int64("seed", 1, "seed of the fault injection")
	errRate := fs.Float64("error-rate", 0, "share of requests answered 5xx")
	limitRate := fs.Float64("rate-limit-rate", 0, "share of requests answered 429 with Retry-After")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(io.Stderr, *logLevel, "auto")
	if err != nil {
		return err
	}
	emu := emulator.New(emulator.Options{Seed: *seed, Logger: log,
		Faults: emulator.Faults{ErrorRate: *errRate, RateLimitRate: *limitRate}})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: emu.Handler(), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(io.Stdout, "emulator listening on http://%s (GA4: /mp/collect, /debug/mp/collect; control: /emulator/...)\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
