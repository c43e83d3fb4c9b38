//go:build !failpoints

package failpoint

// Enabled reports whether failpoints are compiled in (build tag
// "failpoints").
const Enabled = false

// Hit marks one pass through the failpoint name. Without the build tag
// "failpoints" it does nothing.
func Hit(string) {}

// HitOnSuccess marks a pass through the failpoint name, of the given
// kind, when err is nil: only passes after a step that succeeded count.
// Without the build tag "failpoints" it does nothing.
func HitOnSuccess(string, string, error) {}

// HitOnBatchSuccess is HitOnSuccess when every error of errs is nil: only
// passes after a batch that succeeded whole count. Without the build tag
// "failpoints" it does nothing.
func HitOnBatchSuccess(string, string, []error) {}
