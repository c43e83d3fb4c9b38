//go:build failpoints

package failpoint_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/callforward/callforward/forwarder/failpoint"
)

// childEnv makes the test binary act as the process under test.
const childEnv = "FAILPOINT_TEST_CHILD"

// TestMain runs the child's script when childEnv is set: five passes
// through "x" (of kinds a, b, none, a, b), each after failed steps that do
// not count, one line per pass.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		for i := 1; i <= 5; i++ {
			failpoint.HitOnSuccess("x", "a", errors.New("a failed step does not count"))
			failpoint.HitOnBatchSuccess("x", "a", []error{nil, errors.New("nor a batch with a failure")})
			switch i % 3 {
			case 0:
				failpoint.Hit("x")
			case 1:
				failpoint.HitOnBatchSuccess("x", "a", []error{nil, nil})
			case 2:
				failpoint.HitOnSuccess("x", "b", nil)
			}
			fmt.Printf("pass %d\n", i)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestFires: the armed failpoint kills the process with SIGKILL on its
// Nth hit (of its kind, when narrowed to one), after saying so on
// standard error; an unarmed one never fires;
// a spec that does not parse ends the process at start.
func TestFires(t *testing.T) {
	if !failpoint.Enabled {
		t.Fatal("Enabled is false with the failpoints build tag")
	}
	tests := []struct {
		spec       string
		wantPasses int
		wantKill   bool
		wantStderr string
	}{
		{spec: "x=3", wantPasses: 2, wantKill: true, wantStderr: "failpoint x: hit 3: SIGKILL"},
		{spec: "x=1", wantPasses: 0, wantKill: true, wantStderr: "failpoint x: hit 1: SIGKILL"},
		{spec: "y=1", wantPasses: 5},
		{spec: "x=6", wantPasses: 5},
		{spec: "x/b=2", wantPasses: 4, wantKill: true, wantStderr: "failpoint x/b: hit 2: SIGKILL"},
		{spec: "x/a=2", wantPasses: 3, wantKill: true, wantStderr: "failpoint x/a: hit 2: SIGKILL"},
		{spec: "x/c=1", wantPasses: 5},
		{spec: "x=zero", wantPasses: 0, wantStderr: failpoint.EnvVar},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=1", failpoint.EnvVar+"="+tt.spec)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			killed := false
			if ee, ok := errors.AsType[*exec.ExitError](err); ok {
				ws, _ := ee.Sys().(syscall.WaitStatus)
				killed = ws.Signaled() && ws.Signal() == syscall.SIGKILL
			}
			if killed != tt.wantKill {
				t.Errorf("killed by SIGKILL: %v (%v), want %v", killed, err, tt.wantKill)
			}
			if got := strings.Count(stdout.String(), "pass "); got != tt.wantPasses {
				t.Errorf("%d passes before the end, want %d:\n%s", got, tt.wantPasses, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
