//go:build !failpoints

package failpoint_test

import (
	"testing"

	"github.com/callforward/callforward/forwarder/failpoint"
)

// TestOffDoesNothing: without the build tag, an armed failpoint is passed
// as often as wanted and the process lives on.
func TestOffDoesNothing(t *testing.T) {
	t.Setenv(failpoint.EnvVar, failpoint.MidBatch+"=1,"+failpoint.AfterSendBeforeCommit+"/ga4=1")
	if failpoint.Enabled {
		t.Fatal("Enabled is true without the failpoints build tag")
	}
	for range 3 {
		failpoint.Hit(failpoint.MidBatch)
		failpoint.HitOnSuccess(failpoint.AfterSendBeforeCommit, "ga4", nil)
		failpoint.HitOnBatchSuccess(failpoint.AfterSendBeforeCommit, "ga4", []error{nil})
	}
}
