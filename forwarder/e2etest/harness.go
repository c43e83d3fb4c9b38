// Package e2etest runs the real forwarder binary as a child process
// against the Google emulator and checks, from the outside, what arrived:
// the black-box half of the test suite. The harness (building the binary,
// starting, killing and restarting it, sending webhooks) is exported so
// benchmarks can use it too.
package e2etest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// builds holds one build of cmd/forwarder per set of build tags.
var builds sync.Map // tags → *build

type build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds cmd/forwarder once per process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	return BinaryWithTags(t, "")
}

// BinaryWithTags builds cmd/forwarder with the given build tags (comma
// separated, as go build -tags takes them) once per process and returns
// its path.
func BinaryWithTags(t testing.TB, tags string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(tags, &build{})
	b := v.(*build)
	b.once.Do(func() { b.path, b.err = goBuild(tags) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// goBuild builds cmd/forwarder with tags into a new temporary directory.
func goBuild(tags string) (string, error) {
	dir, err := os.MkdirTemp("", "callforward-bin-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "forwarder")
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build the binary under test: %w", err)
	}
	cmd := exec.Command(gobin, "build", "-tags", tags, "-o", path, "github.com/callforward/callforward/cmd/forwarder")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -tags %q: %v\n%s", tags, err, out)
	}
	return path, nil
}

// Run runs a one-shot forwarder command and returns its standard output;
// it fails the test when the command fails.
func Run(t testing.TB, bin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("forwarder %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// Forwarder is a running forwarder process.
type Forwarder struct {
	t    testing.TB
	cmd  *exec.Cmd
	addr string
	logs *Logs
	done chan error
}

// Logs collects a process's log lines, safe for concurrent use.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Start runs `forwarder serve args...` with JSON logs on 127.0.0.1:0 and
// waits until it listens. logs may be shared between restarts (nil: new).
func Start(t testing.TB, bin string, logs *Logs, args ...string) *Forwarder {
	t.Helper()
	if logs == nil {
		logs = &Logs{}
	}
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug"}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "FORWARDER_WEBHOOK_TOKENS=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start forwarder: %v", err)
	}
	f := &Forwarder{t: t, cmd: cmd, logs: logs, done: make(chan error, 1)}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			logs.Write(append(append([]byte{}, line...), '\n'))
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "forwarder listening" {
				select {
				case addrc <- rec.Addr:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		f.done <- cmd.Wait()
	}()
	select {
	case f.addr = <-addrc:
	case err := <-f.done:
		t.Fatalf("forwarder exited before listening: %v\n%s", err, logs)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("forwarder did not listen within 30s\n%s", logs)
	}
	t.Cleanup(func() {
		if f.cmd.ProcessState == nil {
			f.cmd.Process.Kill()
			<-f.done
		}
	})
	return f
}

// URL is the forwarder's base URL.
func (f *Forwarder) URL() string { return "http://" + f.addr }

// Logs returns the log collector.
func (f *Forwarder) Logs() *Logs { return f.logs }

// Kill sends SIGKILL and waits for the process to end.
func (f *Forwarder) Kill() {
	f.cmd.Process.Kill()
	<-f.done
}

// Signal sends sig to the process.
func (f *Forwarder) Signal(sig os.Signal) error { return f.cmd.Process.Signal(sig) }

// Stop sends SIGTERM and returns how long the process took to stop and
// its exit error (nil for exit 0).
func (f *Forwarder) Stop() (time.Duration, error) {
	start := time.Now()
	f.cmd.Process.Signal(syscall.SIGTERM)
	err := <-f.done
	return time.Since(start), err
}

// Post sends a webhook request and returns the status and the decoded reply.
func Post(ctx context.Context, req *http.Request) (int, map[string]any, error) {
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var body map[string]any
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, err
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return res.StatusCode, nil, fmt.Errorf("reply %q: %w", raw, err)
	}
	return res.StatusCode, body, nil
}

// Eventually polls cond every 20ms until it holds or limit passes.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Contains reports whether any of the needles appears in logs; it returns the first found.
func Contains(logs string, needles ...string) (string, bool) {
	for _, n := range needles {
		if n != "" && strings.Contains(logs, n) {
			return n, true
		}
	}
	return "", false
}
