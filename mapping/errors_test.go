package mapping

import (
	"errors"
	"testing"
)

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"with context", &Error{Pos: Pos{File: "r.yaml", Line: 12, Col: 7}, Context: `rule "q"`, Msg: "bad"}, `r.yaml:12:7: rule "q": bad`},
		{"top level", &Error{Pos: Pos{File: "r.yaml", Line: 1, Col: 1}, Msg: "bad"}, `r.yaml:1:1: bad`},
		{"line only", &Error{Pos: Pos{File: "r.yaml", Line: 4}, Msg: "YAML syntax: x"}, `r.yaml:4: YAML syntax: x`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrorListUnwrap(t *testing.T) {
	t.Parallel()
	second := &Error{Pos: Pos{File: "r.yaml", Line: 2, Col: 1}, Msg: "two"}
	list := ErrorList{{Pos: Pos{File: "r.yaml", Line: 1, Col: 1}, Msg: "one"}, second}
	var err error = list
	if got, want := err.Error(), "r.yaml:1:1: one\nr.yaml:2:1: two"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, second) {
		t.Error("errors.Is does not find the second problem in the list")
	}
}
