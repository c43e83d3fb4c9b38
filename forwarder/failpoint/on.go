//go:build failpoints

package failpoint

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
)

// Enabled reports whether failpoints are compiled in (build tag
// "failpoints").
const Enabled = true

// armed is one failpoint from FORWARDER_FAILPOINTS.
type armed struct {
	at   int64
	hits atomic.Int64
}

// points are the armed failpoints by name (or name/kind), read once at
// start.
var points map[string]*armed

// init reads FORWARDER_FAILPOINTS. A value that does not parse ends the
// process at start: a fault test that armed nothing must not pass
// unnoticed.
func init() {
	spec, err := Parse(os.Getenv(EnvVar))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", EnvVar, err)
		os.Exit(2)
	}
	points = make(map[string]*armed, len(spec))
	for name, at := range spec {
		points[name] = &armed{at: at}
	}
}

// Hit marks one pass through the failpoint name; on the hit that
// FORWARDER_FAILPOINTS names for it, the process kills itself with
// SIGKILL.
func Hit(name string) { hit(name) }

// HitOnSuccess marks a pass through the failpoint name, of the given
// kind, when err is nil: it counts for name and for name/kind.
func HitOnSuccess(name, kind string, err error) {
	if err == nil {
		hit(name, name+"/"+kind)
	}
}

// HitOnBatchSuccess is HitOnSuccess when every error of errs is nil: only
// passes after a batch that succeeded whole count.
func HitOnBatchSuccess(name, kind string, errs []error) {
	for _, err := range errs {
		if err != nil {
			return
		}
	}
	hit(name, name+"/"+kind)
}

// hit counts a pass for each of names and fires the first that reaches
// its hit.
func hit(names ...string) {
	for _, name := range names {
		p := points[name]
		if p == nil || p.hits.Add(1) != p.at {
			continue
		}
		fmt.Fprintf(os.Stderr, "failpoint %s: hit %d: SIGKILL\n", name, p.at)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way: do not return into the code under test
	}
}
