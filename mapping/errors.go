package mapping

import (
	"fmt"
	"sort"
	"strings"
)

// maxErrors bounds how many problems one file reports, so that a badly
// broken (or hostile) file yields a readable list rather than thousands of
// lines.
const maxErrors = 50

// Pos is a position in a rules file. Line and Col count from 1; Col is 0
// when the YAML parser only reported a line.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col,omitempty"`
}

// String formats p as file:line:col (file:line when the column is unknown).
func (p Pos) String() string {
	if p.Col == 0 {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem found in a rules file. Context names the part of
// the file the problem is in (`rule "qualified"`, `destination "web"`) and
// is empty for problems at the top level.
type Error struct {
	Pos     Pos
	Context string
	Msg     string
}

// Error formats e as `file:line:col: context: message`.
func (e *Error) Error() string {
	if e.Context == "" {
		return e.Pos.String() + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Context + ": " + e.Msg
}

// ErrorList is every problem found in a rules file, in file order. Parse
// and Load return it (as an error) when a file is not usable; its Error
// gives one line per problem.
type ErrorList []*Error

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.As and errors.Is.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sortErrors orders problems by position, keeping the discovery order of
// problems at the same position.
func sortErrors(l ErrorList) {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Pos.Line != l[j].Pos.Line {
			return l[i].Pos.Line < l[j].Pos.Line
		}
		return l[i].Pos.Col < l[j].Pos.Col
	})
}
