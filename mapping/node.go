package mapping

import (
	"fmt"
	"github.com/callforward/callforward/forwarder"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// loader collects the problems and warnings of one file while it is being
// compiled. Compilation never stops at the first problem: every part of the
// file is checked so that one run of `forwarder check` lists everything.
type loader struct {
	file  string
	errs  ErrorList
	warns ErrorList
	// broken are destinations defined with an unusable type: rules
	// sending to them are not reported again.
	broken map[string]bool
	// usedDests are the destinations some rule sends to.
	usedDests map[string]bool
	// region is settings.default_region: the country national caller
	// numbers are read in ("" when numbers must carry their country code).
	region string
	// consent is settings.consent: the consent signals of actions and
	// destinations that give none.
	consent forwarder.GA4Consent
	// src is the file's text, for positions inside block scalars.
	src string
	// history is set when a rule asks about the caller's earlier calls.
	history bool
}

func newLoader(file string) *loader {
	return &loader{file: file, broken: map[string]bool{}, usedDests: map[string]bool{}}
}

func (l *loader) pos(n *yaml.Node) Pos {
	if n == nil {
		return Pos{File: l.file, Line: 1, Col: 1}
	}
	return Pos{File: l.file, Line: n.Line, Col: n.Column}
}

// errorf records a problem at n.
func (l *loader) errorf(n *yaml.Node, ctx, format string, args ...any) {
	if len(l.errs) > maxErrors {
		return
	}
	if len(l.errs) == maxErrors {
		l.errs = append(l.errs, &Error{Pos: l.pos(n), Msg: "too many problems, stopping here"})
		return
	}
	l.errs = append(l.errs, &Error{Pos: l.pos(n), Context: ctx, Msg: fmt.Sprintf(format, args...)})
}

// warnf records a warning at n: something legal that is probably not what
// the author meant.
func (l *loader) warnf(n *yaml.Node, ctx, format string, args ...any) {
	l.warns = append(l.warns, &Error{Pos: l.pos(n), Context: ctx, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases (*name) to the node they stand for. It returns
// nil only for nil.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or an explicit YAML null.
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names the kind of a node for messages ("a list", "the text \"x\"").
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping (key: value pairs)"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.ShortTag() == "!!null":
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// object is a checked YAML mapping: every key is known and appears once.
type object struct {
	node *yaml.Node
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
}

// get returns the value of key, or nil when the key is absent.
func (o object) get(key string) *yaml.Node { return resolve(o.vals[key]) }

// has reports whether key was given (even with a null value).
func (o object) has(key string) bool { _, ok := o.vals[key]; return ok }

// keyNode returns the node of key itself, for positions; the mapping's own
// node when the key is absent.
func (o object) keyNode(key string) *yaml.Node {
	if k, ok := o.keys[key]; ok {
		return k
	}
	return o.node
}

// object checks that n is a mapping whose keys are all in known and
// returns it. hints gives a specific message for keys that are recognised
// but not accepted here. ok is false when n is not a mapping at all.
func (l *loader) object(n *yaml.Node, ctx, what string, known []string, hints map[string]string) (object, bool) {
	n = resolve(n)
	o := object{node: n, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	if isNull(n) {
		return o, true
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, ctx, "%s must be a mapping (key: value pairs), got %s", what, describe(n))
		return o, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, ctx, "%s: keys must be plain names, got %s", what, describe(k))
			continue
		}
		name := k.Value
		switch {
		case name == "<<":
			l.errorf(k, ctx, "merge keys (<<) are not supported; repeat the keys or use an alias for the whole value")
		case !slices.Contains(known, name):
			if h, ok := hints[name]; ok {
				l.errorf(k, ctx, "%s", h)
				continue
			}
			l.errorf(k, ctx, "unknown key %q in %s%s; known keys: %s", name, what, didYouMean(name, known), strings.Join(known, ", "))
		case o.keys[name] != nil:
			l.errorf(k, ctx, "key %q is given twice in %s (first at line %d)", name, what, o.keys[name].Line)
		default:
			o.keys[name] = k
			o.vals[name] = v
		}
	}
	return o, true
}

// items returns the elements of a list; a single value counts as a list of
// one (so `disposition: ANSWERED` and `disposition: [ANSWERED]` are alike).
func items(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		out := make([]*yaml.Node, len(n.Content))
		for i, c := range n.Content {
			out[i] = resolve(c)
		}
		return out
	}
	return []*yaml.Node{n}
}

// text returns a scalar's text. Numbers are accepted as text (a number's
// name may be "1300"); lists, mappings, null and booleans are not.
func (l *loader) text(n *yaml.Node, ctx, what string) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		l.errorf(n, ctx, "%s must be a text value, got %s", what, describe(n))
		return "", false
	}
	if n.ShortTag() == "!!bool" {
		l.errorf(n, ctx, "%s must be a text value, got the boolean %s (quote it if you mean the text)", what, n.Value)
		return "", false
	}
	return n.Value, true
}

// texts returns the non-empty text values of a value-or-list.
func (l *loader) texts(n *yaml.Node, ctx, what string) ([]string, []*yaml.Node) {
	var vals []string
	var nodes []*yaml.Node
	list := items(n)
	if len(list) == 0 {
		l.errorf(n, ctx, "%s needs at least one value", what)
		return nil, nil
	}
	for _, it := range list {
		s, ok := l.text(it, ctx, what)
		if !ok {
			continue
		}
		if strings.TrimSpace(s) == "" {
			l.errorf(it, ctx, "%s must not be empty", what)
			continue
		}
		vals = append(vals, s)
		nodes = append(nodes, it)
	}
	return vals, nodes
}

// seconds returns a whole, non-negative number of seconds.
func (l *loader) seconds(n *yaml.Node, ctx, what string) (int, bool) {
	n = resolve(n)
	var v int64
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil || v < 0 || v > math.MaxInt32 {
		l.errorf(n, ctx, "%s must be a whole number of seconds, got %s", what, describe(n))
		return 0, false
	}
	return int(v), true
}

// boolean returns a true/false value.
func (l *loader) boolean(n *yaml.Node, ctx, what string) (bool, bool) {
	n = resolve(n)
	var v bool
	if n == nil || n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
		l.errorf(n, ctx, "%s must be true or false, got %s", what, describe(n))
		return false, false
	}
	return v, true
}
