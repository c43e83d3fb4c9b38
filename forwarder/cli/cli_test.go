package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/logtest"
)

// exampleRules is the example rules file every sample is written for.
const exampleRules = "../../examples/rules.yaml"

// ga4Rules are GA4-only rules pinned for the tests of serve, check
// --credentials and replay, which are about the command, not the rules.
const ga4Rules = "testdata/ga4-rules.yaml"

// waitLimit bounds every wait for a command to reach a state; it only fires
// when a test is broken, never on a slow machine.
const waitLimit = 30 * time.Second

// result is what one Main call did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout:\n" + r.stdout + "\n--- stderr:\n" + r.stderr
}

// run calls Main with args and stdin (nil: empty) and returns what it did.
func run(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, IO{Stdin: stdin, Stdout: &stdout, Stderr: &stderr})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// clearEnv unsets every FORWARDER_* variable for the test, so that the
// environment the tests run in cannot change a command's flags.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix) {
			t.Setenv(name, "") // restores the variable when the test ends
			if err := os.Unsetenv(name); err != nil {
				t.Fatalf("unset %s: %v", name, err)
			}
		}
	}
}

// runUntil starts Main with args in the background, waits until ready
// reports true on what it wrote (stdout, stderr), then cancels its context
// and returns its exit code and output.
func runUntil(t *testing.T, ready func(stdout, stderr string) bool, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr logtest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, args, IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr})
	}()
	deadline := time.After(waitLimit)
	for !ready(stdout.String(), stderr.String()) {
		select {
		case code := <-done:
			t.Fatalf("%v ended before it was ready: %v", args, result{code, stdout.String(), stderr.String()})
		case <-deadline:
			t.Fatalf("%v not ready within %v: %v", args, waitLimit, result{-1, stdout.String(), stderr.String()})
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	select {
	case code := <-done:
		return result{code, stdout.String(), stderr.String()}
	case <-time.After(waitLimit):
		t.Fatalf("%v did not stop within %v of its context being cancelled", args, waitLimit)
	}
	return result{}
}

func TestMainCommands(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"no command prints usage", nil, 2, nil, []string{"usage: forwarder <command>", "serve", "explain"}},
		{"help prints usage", []string{"help"}, 0, nil, []string{"usage: forwarder <command>", "FORWARDER_"}},
		{"--help prints usage", []string{"--help"}, 0, nil, []string{"usage: forwarder <command>"}},
		{"unknown command", []string{"forward"}, 2, nil, []string{`unknown command "forward"`, "usage: forwarder <command>"}},
		{"version", []string{"version"}, 0, []string{"callforward "}, nil},
		{"version takes no arguments", []string{"version", "now"}, 2, nil, []string{"unexpected arguments"}},
		{"command help", []string{"version", "-h"}, 2, nil, []string{"Usage of forwarder version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%v", r.code, tt.wantCode, r)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout does not contain %q\n%v", s, r)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr does not contain %q\n%v", s, r)
				}
			}
		})
	}
}

func TestVersionPrintsTheBuildVersion(t *testing.T) {
	clearEnv(t)
	old := Version
	Version = "v1.2.3"
	t.Cleanup(func() { Version = old })
	r := run(t, nil, "version")
	if r.code != 0 || r.stdout != "callforward v1.2.3\n" {
		t.Errorf("got %v\nwant exit 0 and stdout %q", r, "callforward v1.2.3\n")
	}
}
