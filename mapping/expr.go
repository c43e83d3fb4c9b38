package mapping

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/callforward/callforward/forwarder"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"go.yaml.in/yaml/v3"
)

// compileExprCond compiles `expr:`, a CEL condition that must give
// true/false. It returns nil after recording a problem.
func (l *loader) compileExprCond(n *yaml.Node, ctx string) condition {
	src, ok := l.text(n, ctx, "expr")
	if !ok {
		return nil
	}
	p, probs := compileExpr(src, []*cel.Type{cel.BoolType}, "true or false (a condition such as call.duration >= 60)")
	if len(probs) > 0 {
		l.exprErrors(n, ctx, "expr", probs)
		return nil
	}
	l.history = l.history || p.history
	return &exprCond{p: p}
}

// exprErrors records an expression's problems at their place in the file.
func (l *loader) exprErrors(n *yaml.Node, ctx, what string, probs []exprProblem) {
	for _, p := range probs {
		pos := l.exprPos(n, p)
		if len(l.errs) >= maxErrors {
			l.errorf(n, ctx, "%s", p.msg)
			continue
		}
		l.errs = append(l.errs, &Error{Pos: pos, Context: ctx, Msg: what + ": " + p.msg})
	}
}

// exprPos maps a position inside an expression to the file. Plain and
// quoted one-line scalars start at the node's column (after the quote);
// block scalars (| and >) start on the next line, and their lines lose
// the indentation of the first one. Escapes in double-quoted text are not accounted for.
func (l *loader) exprPos(n *yaml.Node, p exprProblem) Pos {
	pos := l.pos(n)
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		pos.Line = n.Line + p.line
		indent := 0
		if line := l.sourceLine(n.Line + 1); line != "" {
			indent = len(line) - len(strings.TrimLeft(line, " "))
		}
		pos.Col = indent + 1 + p.col
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		pos.Line = n.Line + p.line - 1
		if p.line == 1 {
			pos.Col = n.Column + 1 + p.col
		} else {
			pos.Col = 1 + p.col
		}
	default:
		pos.Line = n.Line + p.line - 1
		if p.line == 1 {
			pos.Col = n.Column + p.col
		} else {
			pos.Col = 1 + p.col
		}
	}
	return pos
}

// sourceLine returns line number i (from 1) of the file, or "".
func (l *loader) sourceLine(i int) string {
	s := l.src
	for ; i > 1 && s != ""; i-- {
		j := strings.IndexByte(s, '\n')
		if j < 0 {
			return ""
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, '\n'); j >= 0 {
		s = s[:j]
	}
	return s
}

// exprCond is a CEL condition. An expression that fails at evaluation (a
// missing extra key, arithmetic on a null survey value) does not match:
// the request never fails because of a rule, and Explain gives the error.
type exprCond struct{ p *celProgram }

func (e *exprCond) match(c *forwarder.Call) bool {
	v, err := e.p.eval(c)
	return err == nil && v == types.True
}

func (e *exprCond) why(c *forwarder.Call) string {
	if _, err := e.p.eval(c); err != nil {
		return fmt.Sprintf("expr %s could not be evaluated for this call, so it counts as not matched: %v", quoteExpr(e.p.src), err)
	}
	return fmt.Sprintf("expr %s is false for this call", quoteExpr(e.p.src))
}

// quoteExpr formats an expression for messages, on one line and short.
func quoteExpr(src string) string {
	s := strings.Join(strings.Fields(src), " ")
	if utf8.RuneCountInString(s) > 80 {
		s = truncate(s, 77) + "..."
	}
	return "`" + s + "`"
}
