package mapping

import (
	"math"

	"github.com/callforward/callforward/forwarder"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"go.yaml.in/yaml/v3"
)

// Result types a value expression may have.
var (
	celNumberTypes = []*cel.Type{cel.IntType, cel.DoubleType, cel.NullableType(cel.IntType)}
	celValueTypes  = append([]*cel.Type{cel.StringType}, celNumberTypes...)
)

// compileExprValue compiles `{expr: '...'}`, a value computed by a CEL
// expression. numeric restricts the result to numbers (Google Ads values);
// otherwise texts are allowed too (GA4 parameters).
func (l *loader) compileExprValue(n *yaml.Node, ctx, what string, lim valueLimits, numeric bool) (*value, bool) {
	o, ok := l.object(n, ctx, what, []string{"expr"}, nil)
	if !ok {
		return nil, false
	}
	if !o.has("expr") {
		l.errorf(n, ctx, "%s: a computed value is written {expr: '...'}, e.g. {expr: 'call.duration >= 300 ? 100.0 : 50.0'}", what)
		return nil, false
	}
	src, ok := l.text(o.get("expr"), ctx, what+" expr")
	if !ok {
		return nil, false
	}
	want, wantText := celValueTypes, "a number or a text"
	if numeric {
		want, wantText = celNumberTypes, "a number (such as call.duration >= 300 ? 100.0 : 50.0)"
	}
	p, probs := compileExpr(src, want, wantText)
	if len(probs) > 0 {
		l.exprErrors(o.get("expr"), ctx, what+" expr", probs)
		return nil, false
	}
	l.history = l.history || p.history
	return &value{prog: p, maxLen: lim.maxLen}, true
}

// renderExpr computes an expression value for c; ok is false when the
// expression fails on c or gives null, and the value is then left out
// (or, for Google Ads, replaced by default_value).
func (v *value) renderExpr(c *forwarder.Call) (any, bool) {
	r, err := v.prog.eval(c)
	if err != nil {
		return nil, false
	}
	switch r := r.(type) {
	case types.Int:
		return int(r), true
	case types.Double:
		f := float64(r)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		return f, true
	case types.String:
		if r == "" {
			return nil, false
		}
		return truncate(string(r), v.maxLen), true
	}
	return nil, false
}

// isText reports whether an expression value gives text.
func (v *value) isText() bool {
	return v.prog != nil && v.prog.out.IsExactType(cel.StringType)
}
