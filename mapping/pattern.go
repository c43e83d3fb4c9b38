package mapping

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/callforward/callforward/forwarder"
	"go.yaml.in/yaml/v3"
)

// A textPattern matches a text field one of three ways, chosen by how the
// rule writes it: /regex/ (RE2, case-insensitive), a glob with * ? or [ ]
// (path.Match, case-insensitive; * does not cross a '/'), or an exact
// value (case-insensitive).
type textPattern struct {
	src   string
	exact string         // set for exact values
	glob  string         // lower-cased glob
	re    *regexp.Regexp // set for /regex/
}

func (p *textPattern) match(s string) bool {
	switch {
	case p.re != nil:
		return p.re.MatchString(s)
	case p.glob != "":
		ok, _ := path.Match(p.glob, strings.ToLower(s))
		return ok
	}
	return p.exact == s || strings.EqualFold(p.exact, s)
}

// maxPatternLen bounds a pattern; real ones are a few words.
const maxPatternLen = 500

// compilePattern compiles one pattern, or records a problem at n.
func (l *loader) compilePattern(n *yaml.Node, ctx, key, s string) (textPattern, bool) {
	if len(s) > maxPatternLen {
		l.errorf(n, ctx, "%s: the pattern is %d characters long; at most %d", key, len(s), maxPatternLen)
		return textPattern{}, false
	}
	if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		re, err := regexp.Compile("(?i)" + s[1:len(s)-1])
		if err != nil {
			l.errorf(n, ctx, "%s: %s is not a valid regular expression (RE2 syntax): %s", key, s, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			return textPattern{}, false
		}
		return textPattern{src: s, re: re}, true
	}
	if strings.ContainsAny(s, "*?[") {
		g := strings.ToLower(s)
		if _, err := path.Match(g, ""); err != nil {
			l.errorf(n, ctx, "%s: %q is not a valid pattern: %v (use * for any text, ? for one character, [abc] for one of a set; escape with \\)", key, s, err)
			return textPattern{}, false
		}
		return textPattern{src: s, glob: g}, true
	}
	return textPattern{src: s, exact: s}, true
}

// compilePatterns compiles a pattern matcher (source, medium, campaign).
func (l *loader) compilePatterns(n *yaml.Node, ctx, key, what string, get func(*forwarder.Call) string) condition {
	vals, nodes := l.texts(n, ctx, key)
	var pats []textPattern
	ok := true
	for i, v := range vals {
		p, good := l.compilePattern(nodes[i], ctx, key, v)
		ok = ok && good
		pats = append(pats, p)
	}
	if !ok || len(pats) == 0 {
		return nil
	}
	return &patternCond{field: key, what: what, get: get, pats: pats}
}

// patternCond matches a text field against patterns; any may match.
type patternCond struct {
	field, what string
	get         func(*forwarder.Call) string
	pats        []textPattern
}

func (p *patternCond) match(c *forwarder.Call) bool {
	s := p.get(c)
	for i := range p.pats {
		if p.pats[i].match(s) {
			return true
		}
	}
	return false
}

func (p *patternCond) why(c *forwarder.Call) string {
	srcs := make([]string, len(p.pats))
	for i, pt := range p.pats {
		srcs[i] = pt.src
	}
	got := p.get(c)
	if got == "" {
		return fmt.Sprintf("the call has no %s; the rule wants %s (%s)", p.what, orList(srcs), p.field)
	}
	return fmt.Sprintf("the call's %s is %q; the rule wants %s (%s)", p.what, got, orList(srcs), p.field)
}

// compileSurveyRange compiles min_survey_value and max_survey_value into
// one condition, or returns nil when neither is given (or they are broken).
func (l *loader) compileSurveyRange(o object, ctx string) condition {
	r, ok := l.compileRange(o, ctx, "min_survey_value", "max_survey_value", l.wholeNumber)
	if !ok {
		return nil
	}
	return &surveyCond{r}
}

// wholeNumber returns a whole number (negative allowed).
func (l *loader) wholeNumber(n *yaml.Node, ctx, what string) (int, bool) {
	n = resolve(n)
	var v int64
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil || v < -(1<<31) || v > 1<<31-1 {
		l.errorf(n, ctx, "%s must be a whole number, got %s", what, describe(n))
		return 0, false
	}
	return int(v), true
}

// surveyCond matches Call.Survey.Value, bounds included. A call without a
// survey value never matches.
type surveyCond struct{ intRange }

func (s *surveyCond) match(c *forwarder.Call) bool {
	v := c.Survey.Value
	return v != nil && (!s.hasMin || *v >= s.min) && (!s.hasMax || *v <= s.max)
}

func (s *surveyCond) why(c *forwarder.Call) string {
	var want string
	switch {
	case s.hasMin && s.hasMax:
		want = fmt.Sprintf("between %d and %d", s.min, s.max)
	case s.hasMin:
		want = fmt.Sprintf("at least %d", s.min)
	default:
		want = fmt.Sprintf("at most %d", s.max)
	}
	if c.Survey.Value == nil {
		return "the call has no Call.Survey.Value; the rule wants one " + want
	}
	return fmt.Sprintf("the call's Call.Survey.Value is %d; the rule wants %s", *c.Survey.Value, want)
}
