package mapping

import (
	"slices"
	"testing"
)

// TestMatchOrderCoversWhenKeys guards against a matcher that is accepted
// but never compiled (max_duration is compiled with min_duration, and
// max_survey_value with min_survey_value).
func TestMatchOrderCoversWhenKeys(t *testing.T) {
	t.Parallel()
	for _, k := range whenKeys {
		if k != "max_duration" && k != "max_survey_value" && !slices.Contains(matchOrder, k) {
			t.Errorf("matcher %q is accepted but missing from matchOrder", k)
		}
	}
	if len(matchOrder) != len(whenKeys)-2 {
		t.Errorf("matchOrder has %d keys, want %d", len(matchOrder), len(whenKeys)-2)
	}
}

func TestOrList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"A"}, `"A"`},
		{[]string{"A", "B"}, `"A" or "B"`},
		{[]string{"A", "B", "C"}, `one of "A", "B", "C"`},
	}
	for _, tc := range tests {
		if got := orList(tc.in); got != tc.want {
			t.Errorf("orList(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
