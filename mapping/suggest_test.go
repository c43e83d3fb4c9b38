package mapping

import "testing"

func TestSuggest(t *testing.T) {
	t.Parallel()
	known := []string{"disposition", "min_duration", "max_duration", "event", "to"}
	tests := []struct {
		got, want string
	}{
		{"dispositon", "disposition"},
		{"Disposition", "disposition"},
		{"min_durtion", "min_duration"},
		{"evnt", "event"},
		{"tp", "to"},
		{"colour", ""},
		{"", ""},
		{"a_very_long_key_that_is_nothing_like_any_other_key_in_the_list_at_all", ""},
	}
	for _, tc := range tests {
		t.Run(tc.got, func(t *testing.T) {
			t.Parallel()
			if got := suggest(tc.got, known); got != tc.want {
				t.Errorf("suggest(%q) = %q, want %q", tc.got, got, tc.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"kitten", "sitting", 3},
		{"event", "evnet", 2},
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
