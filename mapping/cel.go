package mapping

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	_ "time/tzdata" // time zones for getHours("Australia/Sydney") in any container

	"github.com/callforward/callforward/forwarder"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// celVar is one variable an expression can read, such as call.duration.
// Variables are declared with their dotted names, so the checker knows
// every field's type and the evaluation resolves a name with a table
// lookup, without building a map per call.
type celVar struct {
	name string
	typ  *cel.Type
	get  func(c *forwarder.Call) ref.Val
	// doc describes the variable in messages and documentation.
	doc string
}

func celString(s string) ref.Val { return types.String(s) }

// celVars are the variables of expressions. Personal data (the caller's
// number, the GA client id, the click id) is deliberately absent: only
// has_* booleans tell whether the call carries them.
var celVars = []celVar{
	{"call.event", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(string(c.Event)) }, "Event"},
	{"call.duration", cel.IntType, func(c *forwarder.Call) ref.Val {
		if c.Duration == nil {
			return types.IntZero
		}
		return types.Int(*c.Duration)
	}, "Call.Duration in seconds (0 when absent)"},
	{"call.disposition", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(string(c.Disposition)) }, "Call.Disposition"},
	{"call.from_country", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.FromCountry) }, "Call.From.Country"},
	{"call.from_region", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.FromRegion) }, "Call.From.Region"},
	{"call.from_city", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.FromCity) }, "Call.From.City"},
	{"call.to_name", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.ToName) }, "Call.To.Name"},
	{"call.to_type", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.ToType) }, "Call.To.Type"},
	{"call.property_sid", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.PropertySid) }, "Property.Sid"},
	{"call.property_name", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.PropertyName) }, "Property.Name"},
	{"call.account_sid", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.AccountSid) }, "Account.Sid"},
	{"call.survey_type", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.Survey.Type) }, "Call.Survey.Type"},
	{"call.survey_value", cel.NullableType(cel.IntType), func(c *forwarder.Call) ref.Val {
		if c.Survey.Value == nil {
			return types.NullValue
		}
		return types.Int(*c.Survey.Value)
	}, "Call.Survey.Value (null when absent)"},
	{"call.start_time", cel.TimestampType, func(c *forwarder.Call) ref.Val { return types.Timestamp{Time: c.StartDate} }, "Call.StartDate"},
	{"call.has_gclid", cel.BoolType, func(c *forwarder.Call) ref.Val { return types.Bool(c.GCLID != "") }, "whether the call has a Google.AdWords.ClickId"},
	{"call.has_client_id", cel.BoolType, func(c *forwarder.Call) ref.Val { return types.Bool(c.GAClientID != "") }, "whether the call has a Google.Analytics.ClientId"},
	{"call.has_caller_phone", cel.BoolType, func(c *forwarder.Call) ref.Val { return types.Bool(c.CallerPhone() != "") }, "whether the caller's number is known (not withheld)"},
	{celHistoryVar, cel.NullableType(cel.IntType), daysSincePrevious, "whole days since the caller's previous call (null when none is on record)"},
	{"attribution.source", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.Attribution.Source) }, "Attribution.Source"},
	{"attribution.medium", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.Attribution.Medium) }, "Attribution.Medium"},
	{"attribution.campaign", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.Attribution.Campaign) }, "Attribution.Campaign"},
	{"attribution.content", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.Attribution.Content) }, "Attribution.Content"},
	{"session.traffic_type", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.Session.TrafficType) }, "Session.Traffic.Type"},
	{"session.keywords", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.Session.Keywords) }, "Session.Keywords"},
	{"session.landing_uri", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.Session.LandingURI) }, "Session.LandingUri"},
	{"session.conversion_uri", cel.StringType, func(c *forwarder.Call) ref.Val { return celString(c.Session.ConversionURI) }, "Session.ConversionUri"},
	{"extra", cel.MapType(cel.StringType, cel.StringType), func(c *forwarder.Call) ref.Val {
		return types.NewStringStringMap(types.DefaultTypeAdapter, c.Extra)
	}, "the call's undocumented parameters by name"},
}

// celHistoryVar is the variable that reads the caller's history: rules
// using it make intake look the caller up.
const celHistoryVar = "call.days_since_previous_call"

// celPersonal are the names people may try for personal data, with why
// they are not variables.
var celPersonal = map[string]string{
	"from":              "the caller's phone number is personal data; use call.has_caller_phone (or has_caller_phone:) to test whether it is known",
	"caller":            "the caller's phone number is personal data; use call.has_caller_phone (or has_caller_phone:) to test whether it is known",
	"caller_phone":      "the caller's phone number is personal data; use call.has_caller_phone to test whether it is known",
	"phone":             "the caller's phone number is personal data; use call.has_caller_phone to test whether it is known",
	"endpoint":          "the number the call was transferred to is personal data",
	"recording_uri":     "the recording holds the caller's voice and number, which is personal data",
	"gclid":             "the click id is an identifier; use call.has_gclid to test whether the call has one",
	"click_id":          "the click id is an identifier; use call.has_gclid to test whether the call has one",
	"client_id":         "the GA client id identifies the visitor; use call.has_client_id to test whether the call has one",
	"ga_client_id":      "the GA client id identifies the visitor; use call.has_client_id to test whether the call has one",
	"clientid":          "the GA client id identifies the visitor; use call.has_client_id to test whether the call has one",
	"from_number":       "the caller's phone number is personal data; use call.has_caller_phone to test whether it is known",
	"caller_id":         "the caller's phone number is personal data; use call.has_caller_phone to test whether it is known",
	"caller_number":     "the caller's phone number is personal data; use call.has_caller_phone to test whether it is known",
	"recording":         "the recording holds the caller's voice and number, which is personal data",
	"transfer_number":   "the number the call was transferred to is personal data",
	"hashed_phone":      "the caller's phone number is personal data, hashed or not",
	"caller_phone_e164": "the caller's phone number is personal data; use call.has_caller_phone to test whether it is known",
}

// celVarIndex maps a variable's name to its index in celVars.
var celVarIndex = func() map[string]int {
	m := make(map[string]int, len(celVars))
	for i, v := range celVars {
		m[v.name] = i
	}
	return m
}()

// celObjects are the variables' prefixes ("call", ...) with their fields.
var celObjects = func() map[string][]string {
	m := map[string][]string{}
	for _, v := range celVars {
		if obj, field, ok := strings.Cut(v.name, "."); ok {
			m[obj] = append(m[obj], field)
		}
	}
	return m
}()

// Limits on expressions: they are short conditions, and a bound keeps a
// hostile file from costing much to load or evaluate.
const (
	maxExprLen = 2000
	// maxExprCost bounds the work of one evaluation (CEL cost units);
	// ordinary conditions cost well under 100.
	maxExprCost = 100_000
)

var (
	celEnvOnce sync.Once
	celEnvVal  *cel.Env
	celEnvErr  error
)

// celEnv returns the shared environment: the variables, the standard
// functions and the string extensions (lowerAscii, ...).
func celEnv() (*cel.Env, error) {
	celEnvOnce.Do(func() {
		opts := []cel.EnvOption{
			cel.CrossTypeNumericComparisons(true),
			cel.ParserExpressionSizeLimit(maxExprLen),
			cel.ParserRecursionLimit(50),
			ext.Strings(),
		}
		for _, v := range celVars {
			opts = append(opts, cel.Variable(v.name, v.typ))
		}
		celEnvVal, celEnvErr = cel.NewEnv(opts...)
	})
	return celEnvVal, celEnvErr
}

// celActivation resolves variables for one call without allocating a map.
type celActivation struct{ c *forwarder.Call }

func (a celActivation) ResolveName(name string) (any, bool) {
	i, ok := celVarIndex[name]
	if !ok {
		return nil, false
	}
	return celVars[i].get(a.c), true
}

func (a celActivation) Parent() interpreter.Activation { return nil }

// celProgram is a compiled, type-checked expression.
type celProgram struct {
	src string
	prg cel.Program
	out *cel.Type // the result type
	// history is true when the expression reads celHistoryVar.
	history bool
}

// eval evaluates the expression for c. An error (a missing map key, a
// null survey value in arithmetic, the cost limit) is returned, never a
// panic.
func (p *celProgram) eval(c *forwarder.Call) (ref.Val, error) {
	v, _, err := p.prg.Eval(celActivation{c: c})
	if err != nil {
		return nil, err
	}
	if types.IsError(v) {
		return nil, fmt.Errorf("%v", v)
	}
	return v, nil
}

// celIdent finds obj.field references in an expression's text, for
// messages about unknown and personal fields.
var celIdent = regexp.MustCompile(`\b(call|attribution|session)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)`)

// exprProblem is a problem in an expression: where in the expression
// (line from 1, column from 0 in runes) and what.
type exprProblem struct {
	line, col int
	msg       string
}

// compileExpr parses and type-checks src, whose result must have one of
// the types in want (named by wantText in messages).
func compileExpr(src string, want []*cel.Type, wantText string) (*celProgram, []exprProblem) {
	env, err := celEnv()
	if err != nil {
		return nil, []exprProblem{{line: 1, msg: "the expression environment is unusable: " + err.Error()}}
	}
	if strings.TrimSpace(src) == "" {
		return nil, []exprProblem{{line: 1, msg: "the expression is empty"}}
	}
	if probs := fieldProblems(src); len(probs) > 0 {
		return nil, probs
	}
	ast, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		var probs []exprProblem
		for _, e := range iss.Errors() {
			probs = append(probs, exprProblem{line: max(1, e.Location.Line()), col: max(0, e.Location.Column()), msg: "CEL: " + e.Message + celHint(e.Message)})
		}
		return nil, probs
	}
	ok := false
	for _, t := range want {
		if ast.OutputType().IsExactType(t) {
			ok = true
		}
	}
	if !ok {
		return nil, []exprProblem{{line: 1, msg: fmt.Sprintf("the expression gives a %s; it must give %s", celTypeName(ast.OutputType()), wantText)}}
	}
	prg, err := env.Program(ast, cel.CostLimit(maxExprCost), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, []exprProblem{{line: 1, msg: "CEL: " + err.Error()}}
	}
	history := false
	for _, r := range ast.NativeRep().ReferenceMap() {
		history = history || r.Name == celHistoryVar
	}
	return &celProgram{src: src, prg: prg, out: ast.OutputType(), history: history}, nil
}

// fieldProblems reports references to personal data and to fields that do
// not exist, with clearer messages than the checker's.
func fieldProblems(src string) []exprProblem {
	var probs []exprProblem
	for _, m := range celIdent.FindAllStringSubmatchIndex(src, -1) {
		obj, field := src[m[2]:m[3]], src[m[4]:m[5]]
		line := 1 + strings.Count(src[:m[0]], "\n")
		col := len([]rune(src[strings.LastIndex(src[:m[0]], "\n")+1 : m[0]]))
		if why, ok := celPersonal[strings.ToLower(field)]; ok && obj == "call" {
			probs = append(probs, exprProblem{line: line, col: col, msg: fmt.Sprintf("%s.%s cannot be used: %s", obj, field, why)})
			continue
		}
		fields := celObjects[obj]
		if !slices.Contains(fields, field) {
			probs = append(probs, exprProblem{line: line, col: col, msg: fmt.Sprintf("%s has no field %q%s; its fields are %s",
				obj, field, didYouMean(field, fields), strings.Join(fields, ", "))})
		}
	}
	return probs
}

// celHint adds advice to checker messages that puzzle people.
func celHint(msg string) string {
	if strings.Contains(msg, "no matching overload") && strings.Contains(msg, "int") && strings.Contains(msg, "double") {
		return " (CEL does not mix whole and decimal numbers in arithmetic: write double(call.survey_value) * 1.5, or 2.0 instead of 2)"
	}
	return ""
}

// celTypeName names a CEL type for messages.
func celTypeName(t *cel.Type) string {
	switch {
	case t.IsExactType(cel.BoolType):
		return "true/false value"
	case t.IsExactType(cel.IntType):
		return "whole number"
	case t.IsExactType(cel.DoubleType):
		return "decimal number"
	case t.IsExactType(cel.StringType):
		return "text"
	}
	return "value of type " + t.String()
}
