package mapping

import (
	"testing"

	"github.com/callforward/callforward/forwarder"
)

func TestEvaluateNil(t *testing.T) {
	t.Parallel()
	r, err := Load("testdata/matchers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Evaluate(nil); got != nil {
		t.Errorf("Evaluate(nil) = %v, want nil", got)
	}
	if got := r.Explain(nil); len(got) != len(r.rules) {
		t.Errorf("Explain(nil) has %d outcomes, want one per rule (%d)", len(got), len(r.rules))
	}
}

// TestEvaluateNoMatchAllocates checks that rejecting a call costs no
// allocation, whatever the number of rules.
func TestEvaluateNoMatchAllocates(t *testing.T) {
	r, err := Parse("bench.yaml", []byte(benchRules(50, false)))
	if err != nil {
		t.Fatal(err)
	}
	c := &forwarder.Call{Event: forwarder.EventComplete, Sid: "CA1", PropertySid: "PR-other", GAClientID: "1.2"}
	if allocs := testing.AllocsPerRun(100, func() { r.Evaluate(c) }); allocs != 0 {
		t.Errorf("Evaluate of a call no rule matches allocates %v times, want 0", allocs)
	}
}
