package redistest_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store/redistest"
)

// quietLogger drops go-redis's own log lines about failed dials.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func init() { goredis.SetLogger(quietLogger{}) }

// newClient returns a client of srv that does not retry, closed when t
// ends.
func newClient(t *testing.T, srv *redistest.Server) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestStartStopRestart(t *testing.T) {
	srv := redistest.Start(t)
	if want := "redis://" + srv.Addr(); srv.URL() != want {
		t.Errorf("URL() = %q, want %q", srv.URL(), want)
	}
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want a loopback address", srv.Addr())
	}
	ctx := t.Context()
	c := newClient(t, srv)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET = %v", err)
	}

	tests := []struct {
		name string
		down func()
	}{
		{"stop", srv.Stop},
		{"stop twice", func() { srv.Stop(); srv.Stop() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.down()
			if err := c.Ping(ctx).Err(); err == nil {
				t.Fatal("PING after Stop = nil, want an error")
			}
			srv.Restart()
			// The append-only file brings the data back.
			if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
				t.Fatalf("GET after Restart = %q, %v; want %q", v, err, "v")
			}
		})
	}
}

func TestKill(t *testing.T) {
	srv := redistest.Start(t)
	c := newClient(t, srv)
	srv.Kill()
	if err := c.Ping(t.Context()).Err(); err == nil {
		t.Fatal("PING after Kill = nil, want an error")
	}
	srv.Restart()
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("PING after Restart = %v", err)
	}
}

func TestServersAreSeparate(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Addr() == b.Addr() || a.Dir() == b.Dir() {
		t.Fatalf("two servers share %s / %s", a.Addr(), a.Dir())
	}
	if err := newClient(t, a).Set(t.Context(), "k", "a", 0).Err(); err != nil {
		t.Fatalf("SET = %v", err)
	}
	if err := newClient(t, b).Get(t.Context(), "k").Err(); !errors.Is(err, goredis.Nil) {
		t.Fatalf("GET on the other server = %v, want nil reply", err)
	}
}

// fatalTB records a Fatal call and ends the goroutine, as testing does.
type fatalTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

func TestStartFailsWithoutServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		redistest.Start(tb)
	}()
	<-done
	if !strings.Contains(tb.msg, "not found on PATH") {
		t.Fatalf("Start without %s: Fatal message %q, want one saying it is not found", redistest.Binary, tb.msg)
	}
}
