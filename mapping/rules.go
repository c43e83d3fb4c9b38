package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds the rules file; real files are a few kilobytes.
const maxFileSize = 1 << 20

// Rules is a compiled rules file. It is immutable, so Evaluate and Explain
// are safe for concurrent use.
type Rules struct {
	name     string
	dests    []Destination
	rules    []rule
	warnings []string
	// region is settings.default_region, for CallerKey.
	region string
	// history is true when a rule asks about the caller's earlier calls.
	history bool
}

// rule is one compiled rule.
type rule struct {
	name    string
	conds   []condition
	actions []action
	stop    bool
}

var topKeys = []string{"destinations", "rules", "settings"}
var ruleKeys = []string{"name", "when", "stop", "send"}

// allActionKeys are the keys an action may have for some destination type.
var allActionKeys = func() []string {
	keys := []string{"to"}
	for _, name := range destTypeNames {
		for _, k := range destTypes[name].actionKeys {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}()

// Load reads and compiles the rules file at path. Problems in the file come
// back as an ErrorList whose positions name path.
func Load(path string) (*Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: load rules: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("mapping: load rules: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("mapping: load rules %s: the file is larger than %d bytes", path, maxFileSize)
	}
	return Parse(path, data)
}

// Parse compiles a rules file held in data; name is used in error
// positions. It returns either the rules or an ErrorList with every
// problem found, never both.
func Parse(name string, data []byte) (*Rules, error) {
	l := newLoader(name)
	l.src = string(data)
	root := l.parseYAML(data)
	if root == nil {
		return nil, l.errs
	}
	r := &Rules{name: name}
	top, ok := l.object(root, "", "the rules file", topKeys, nil)
	if ok {
		l.compileSettings(top.get("settings"))
		r.dests = l.compileDestinations(top.get("destinations"))
		r.rules = l.compileRules(top, r.dests)
		l.warnUnused(r)
	}
	if len(l.errs) > 0 {
		sortErrors(l.errs)
		return nil, l.errs
	}
	r.region, r.history = l.region, l.history
	sortErrors(l.warns)
	for _, w := range l.warns {
		r.warnings = append(r.warnings, w.Error())
	}
	return r, nil
}

// Name is the name the rules were parsed under (the file path for Load).
func (r *Rules) Name() string { return r.name }

// Warnings lists what is legal but probably unintended (an unused
// destination, an undocumented field reference, an unknown disposition),
// one `file:line:col: message` line each.
func (r *Rules) Warnings() []string { return append([]string(nil), r.warnings...) }

// Destinations lists the destinations the file defines, in file order.
func (r *Rules) Destinations() []Destination { return append([]Destination(nil), r.dests...) }

// RuleNames lists the rule names in file order.
func (r *Rules) RuleNames() []string {
	names := make([]string, len(r.rules))
	for i := range r.rules {
		names[i] = r.rules[i].name
	}
	return names
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses data into the top-level node, recording syntax errors.
func (l *loader) parseYAML(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) || (err == nil && len(doc.Content) == 0) {
		l.errorf(nil, "", "the file is empty; it needs destinations: and rules:")
		return nil
	}
	if err != nil {
		l.syntaxError(err)
		return nil
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		l.errorf(&next, "", "the file holds more than one YAML document (---); put everything in one")
		return nil
	} else if !errors.Is(err, io.EOF) {
		l.syntaxError(err)
		return nil
	}
	return doc.Content[0]
}

// syntaxError records a YAML syntax error at the line the parser names.
func (l *loader) syntaxError(err error) {
	e := &Error{Pos: Pos{File: l.file, Line: 1}, Msg: "YAML syntax: " + err.Error()}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil {
			e.Pos.Line = line
		}
		e.Msg = "YAML syntax: " + m[2]
	}
	l.errs = append(l.errs, e)
}

// compileRules compiles the `rules` list.
func (l *loader) compileRules(top object, dests []Destination) []rule {
	n := top.get("rules")
	if isNull(n) {
		l.errorf(top.keyNode("rules"), "", "rules: the file needs at least one rule")
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "", "rules must be a list (each rule starts with \"- name: ...\"), got %s", describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		l.errorf(n, "", "rules: the file needs at least one rule")
		return nil
	}
	byName := make(map[string]*Destination, len(dests))
	for i := range dests {
		byName[dests[i].Name] = &dests[i]
	}
	var rules []rule
	seen := map[string]int{}
	for i, rn := range n.Content {
		rn = resolve(rn)
		ctx := fmt.Sprintf("rule #%d", i+1)
		o, ok := l.object(rn, ctx, "a rule", ruleKeys, nil)
		if !ok {
			continue
		}
		r := rule{}
		if !o.has("name") {
			l.errorf(rn, ctx, "name is missing; every rule needs a unique name (it is part of each delivery's id)")
		} else if name, ok := l.text(o.get("name"), ctx, "name"); ok {
			if !namePattern.MatchString(name) {
				l.errorf(o.get("name"), ctx, "name %q must be 1 to 64 letters, digits, '-' or '_'", name)
			} else if line, dup := seen[name]; dup {
				l.errorf(o.get("name"), ctx, "name %q is already used by the rule at line %d; rule names must be unique", name, line)
			} else {
				seen[name] = o.get("name").Line
				ctx = fmt.Sprintf("rule %q", name)
				r.name = name
			}
		}
		r.conds = l.compileWhen(o.get("when"), ctx)
		if o.has("stop") {
			r.stop, _ = l.boolean(o.get("stop"), ctx, "stop")
		}
		r.actions = l.compileSend(o, ctx, r.name, byName)
		rules = append(rules, r)
	}
	return rules
}

// compileSend compiles a rule's `send` list.
func (l *loader) compileSend(o object, ctx, ruleName string, dests map[string]*Destination) []action {
	n := o.get("send")
	if !o.has("send") || isNull(n) {
		l.errorf(o.keyNode("send"), ctx, "send is missing: list what to send, e.g. send: [{to: web, event: phone_call}]")
		return nil
	}
	list := items(n)
	if n.Kind != yaml.SequenceNode && n.Kind != yaml.MappingNode {
		l.errorf(n, ctx, "send must be a list of actions, got %s", describe(n))
		return nil
	}
	if len(list) == 0 {
		l.errorf(n, ctx, "send is empty: list at least one action")
		return nil
	}
	var actions []action
	used := map[string]int{}
	for _, an := range list {
		a := l.compileAction(an, ctx, ruleName, dests, used)
		if a != nil {
			actions = append(actions, a)
		}
	}
	return actions
}

// compileAction compiles one `send` entry. used maps the destinations the
// rule already sends to, to the line doing it.
func (l *loader) compileAction(n *yaml.Node, ctx, ruleName string, dests map[string]*Destination, used map[string]int) action {
	if n.Kind != yaml.MappingNode {
		l.errorf(n, ctx, "each send entry must be a mapping starting with to: <destination>, got %s", describe(n))
		return nil
	}
	var toNode *yaml.Node
	for j := 0; j+1 < len(n.Content); j += 2 {
		if resolve(n.Content[j]).Value == "to" {
			toNode = resolve(n.Content[j+1])
		}
	}
	if toNode == nil {
		l.errorf(n, ctx, "to is missing: name the destination to send to")
		l.object(n, ctx, "a send entry", allActionKeys, nil) // report the other keys' problems too
		return nil
	}
	to, ok := l.text(toNode, ctx, "to")
	if !ok {
		return nil
	}
	d, ok := dests[to]
	if !ok {
		names := make([]string, 0, len(dests))
		for name := range dests {
			names = append(names, name)
		}
		if !l.broken[to] {
			l.errorf(toNode, ctx, "destination %q is not defined under destinations:%s", to, didYouMean(to, names))
		}
		return nil
	}
	actx := fmt.Sprintf("%s, send to %q", ctx, to)
	if line, dup := used[to]; dup {
		l.errorf(toNode, ctx, "sends to %q twice (first at line %d); a rule may send to each destination once, since the delivery id is call/rule/destination: split it into two rules", to, line)
		return nil
	}
	used[to] = toNode.Line
	l.usedDests[to] = true
	dt := destTypes[d.Type]
	o, _ := l.object(n, actx, "a "+d.Type+" action", append([]string{"to"}, dt.actionKeys...), dt.actionHints)
	return dt.compileAction(l, o, actx, d, ruleName)
}

// warnUnused warns about destinations no rule sends to.
func (l *loader) warnUnused(r *Rules) {
	for _, d := range r.dests {
		if !l.usedDests[d.Name] {
			l.warns = append(l.warns, &Error{Pos: d.Pos, Context: fmt.Sprintf("destination %q", d.Name), Msg: "no rule sends to it"})
		}
	}
}
