package e2etest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/failpoint"
)

// failpointBinary builds cmd/forwarder with the build tag "failpoints"
// once per process and returns its path: the binary whose failpoints
// FORWARDER_FAILPOINTS arms (package failpoint).
func failpointBinary(t testing.TB) string {
	t.Helper()
	return BinaryWithTags(t, "failpoints")
}

// startArmed starts the failpoint binary on this env with the failpoints
// of spec armed (empty: none).
func (e *env) startArmed(t *testing.T, logs *Logs, spec string, extra ...string) *Forwarder {
	t.Helper()
	t.Setenv(failpoint.EnvVar, spec)
	armed := *e
	armed.bin = failpointBinary(t)
	return armed.start(t, logs, extra...)
}

// waitExit waits up to limit for the process to end by itself and
// returns its exit error; ok is false when it still runs.
func (f *Forwarder) waitExit(limit time.Duration) (exit error, ok bool) {
	select {
	case err := <-f.done:
		return err, true
	case <-time.After(limit):
		return nil, false
	}
}

// killedBySIGKILL reports whether a process's exit error says SIGKILL
// ended it.
func killedBySIGKILL(err error) bool {
	ee, ok := errors.AsType[*exec.ExitError](err)
	if !ok {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// TestFailpointsOnlyUnderTag: the production binary carries no failpoint
// (it ignores FORWARDER_FAILPOINTS and has no trace of it), the tagged
// one does and fires where it is told to.
func TestFailpointsOnlyUnderTag(t *testing.T) {
	for _, tt := range []struct {
		name string
		bin  string
		want bool
	}{{"production", Binary(t), false}, {"failpoints", failpointBinary(t), true}} {
		raw, err := os.ReadFile(tt.bin)
		must(t, err)
		if got := bytes.Contains(raw, []byte(failpoint.EnvVar)); got != tt.want {
			t.Errorf("%s binary mentions %s: %v, want %v", tt.name, failpoint.EnvVar, got, tt.want)
		}
	}

	e := newEnv(t)
	t.Setenv(failpoint.EnvVar, failpoint.AfterAcceptBeforeReply+"=1")
	f := e.start(t, nil)
	if code, reply := e.post(t, f, newCall(1, "ANSWERED", 90)); code != 200 || reply["status"] != "accepted" {
		t.Fatalf("production binary with a failpoint armed: %d %v, want 200 accepted", code, reply)
	}
	f.Kill()

	logs := &Logs{}
	g := e.startArmed(t, logs, failpoint.AfterAcceptBeforeReply+"=2")
	c := newCall(2, "ANSWERED", 90)
	if code, reply := e.post(t, g, c); code != 200 || reply["status"] != "accepted" {
		t.Fatalf("first call (hit 1): %d %v, want 200 accepted", code, reply)
	}
	if _, _, err := postForm(g, e.token, newCall(3, "BUSY", 10)); err == nil {
		t.Fatal("second call (hit 2) got a reply, want the connection cut by SIGKILL")
	}
	exit, ended := g.waitExit(10 * time.Second)
	if !ended || !killedBySIGKILL(exit) {
		t.Fatalf("after the armed hit: ended %v, exit %v; want killed by SIGKILL\n%s", ended, exit, logs)
	}
	if want := "failpoint " + failpoint.AfterAcceptBeforeReply + ": hit 2: SIGKILL"; !strings.Contains(logs.String(), want) {
		t.Errorf("logs do not say %q", want)
	}
}
