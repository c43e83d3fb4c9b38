package mapping

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/callforward/callforward/forwarder"
	"go.yaml.in/yaml/v3"
)

// refName is the shape of a field reference inside {{ }}: dotted words.
var refName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$`)

// A value is a compiled parameter value: a constant, a single field
// reference (which keeps the field's type), text with references in it, or
// a CEL expression.
type value struct {
	prog     *celProgram // set for {expr: ...}
	constant any         // set for constants (string, int or float64)
	ref      *field      // set when the value is exactly one reference
	parts    []part      // set for mixed text
	size     int         // length of the literal text, to size the buffer
	maxLen   int         // rendered strings are cut to this many characters
}

// part is a piece of mixed text: literal text or a reference.
type part struct {
	lit string
	ref *field
}

// valueLimits are a destination's constraints on values.
type valueLimits struct {
	// maxLen is the longest text value, in characters.
	maxLen int
	// noPersonal rejects references to personal data.
	noPersonal bool
	// dest names the destination kind in messages ("GA4").
	dest string
	// product, when set, replaces "GA4" in the reasons personal data is
	// refused (they are written for GA4).
	product string
}

// personalWhy adapts a field's personal-data reason to the destination.
func (lim valueLimits) personalWhy(why string) string {
	if lim.product == "" {
		return why
	}
	return strings.ReplaceAll(why, "GA4", lim.product)
}

// compileValue compiles a parameter value. what names it in messages.
func (l *loader) compileValue(n *yaml.Node, ctx, what string, lim valueLimits) (*value, bool) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.MappingNode {
		return l.compileExprValue(n, ctx, what, lim, false)
	}
	if n == nil || n.Kind != yaml.ScalarNode {
		l.errorf(n, ctx, "%s must be a number or a text, got %s", what, describe(n))
		return nil, false
	}
	switch n.ShortTag() {
	case "!!int":
		var v int
		if err := n.Decode(&v); err != nil {
			l.errorf(n, ctx, "%s: %s is not a usable whole number", what, n.Value)
			return nil, false
		}
		return &value{constant: v}, true
	case "!!float":
		var v float64
		if err := n.Decode(&v); err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			l.errorf(n, ctx, "%s: %s is not a usable number", what, n.Value)
			return nil, false
		}
		return &value{constant: v}, true
	case "!!bool":
		l.errorf(n, ctx, "%s: true/false values cannot be sent to %s, which accepts numbers and texts only; use 1/0 or quote the text (%q)", what, lim.dest, n.Value)
		return nil, false
	case "!!null":
		l.errorf(n, ctx, "%s has no value; give a number, a text or a {{field}} reference, or remove it", what)
		return nil, false
	case "!!str":
		return l.compileText(n, ctx, what, lim)
	}
	l.errorf(n, ctx, "%s must be a number or a text, got %s", what, describe(n))
	return nil, false
}

// compileText compiles a text value, which may hold {{field}} references.
func (l *loader) compileText(n *yaml.Node, ctx, what string, lim valueLimits) (*value, bool) {
	parts, ok := l.parseTemplate(n, ctx, what, lim)
	if !ok {
		return nil, false
	}
	v := &value{maxLen: lim.maxLen}
	for _, p := range parts {
		v.size += len(p.lit)
	}
	switch {
	case len(parts) == 0:
		l.errorf(n, ctx, "%s is empty; give a value or remove it", what)
		return nil, false
	case len(parts) == 1 && parts[0].ref == nil:
		v.constant = parts[0].lit
	case len(parts) == 1:
		v.ref = parts[0].ref
	default:
		v.parts = parts
	}
	literal := 0
	for _, p := range parts {
		literal += utf8.RuneCountInString(p.lit)
	}
	if literal > lim.maxLen {
		l.errorf(n, ctx, "%s is %d characters long; %s accepts at most %d", what, literal, lim.dest, lim.maxLen)
		return nil, false
	}
	return v, true
}

// parseTemplate splits text into literal parts and {{field}} references.
func (l *loader) parseTemplate(n *yaml.Node, ctx, what string, lim valueLimits) ([]part, bool) {
	s := n.Value
	var parts []part
	ok := true
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			parts = append(parts, part{lit: s})
			break
		}
		if i > 0 {
			parts = append(parts, part{lit: s[:i]})
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			l.errorf(n, ctx, "%s: %q opens a {{ reference that is never closed with }}", what, n.Value)
			return nil, false
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		s = s[i+j+2:]
		if !refName.MatchString(name) {
			l.errorf(n, ctx, "%s: {{%s}} is not a field reference; write a webhook parameter name such as {{Call.Duration}}", what, name)
			ok = false
			continue
		}
		f, known := lookupField(name)
		if lim.noPersonal && f.personal != "" {
			l.errorf(n, ctx, "%s: {{%s}} cannot be sent to %s: %s", what, f.name, lim.dest, lim.personalWhy(f.personal))
			ok = false
			continue
		}
		if !known {
			l.warnf(n, ctx, "%s: {{%s}} is not a documented webhook parameter; it will be read from the call's extra parameters and be empty when the platform does not send it%s",
				what, name, didYouMean(name, fieldNames))
		}
		parts = append(parts, part{ref: f})
	}
	return parts, ok
}

// render computes the value for c; ok is false when the value is absent
// (a reference to a field the call does not have) and must be omitted.
func (v *value) render(c *forwarder.Call) (any, bool) {
	switch {
	case v.constant != nil:
		return v.constant, true
	case v.prog != nil:
		return v.renderExpr(c)
	case v.ref != nil:
		if v.ref.num != nil {
			n, ok := v.ref.num(c)
			if !ok {
				return nil, false
			}
			return n, true
		}
		s := v.ref.str(c)
		if s == "" {
			return nil, false
		}
		return truncate(s, v.maxLen), true
	}
	var b strings.Builder
	b.Grow(v.size + 16*len(v.parts))
	for _, p := range v.parts {
		switch {
		case p.ref == nil:
			b.WriteString(p.lit)
		case p.ref.num != nil:
			if n, ok := p.ref.num(c); ok {
				var buf [20]byte
				b.Write(strconv.AppendInt(buf[:0], int64(n), 10))
			}
		default:
			b.WriteString(p.ref.str(c))
		}
	}
	if b.Len() == 0 {
		return nil, false
	}
	return truncate(b.String(), v.maxLen), true
}

// truncate cuts s to at most max characters (runes), never inside a
// character.
func truncate(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i]
		}
		n++
	}
	return s
}
