package webhook

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/callforward/callforward/forwarder"
)

// Limits on a request's parameters. The platform sends about forty short
// parameters; these leave room for growth while bounding what a bad sender
// can make the service store.
const (
	maxParams   = 256
	maxNameLen  = 128
	maxValueLen = 4096
)

// Decode validates params and builds the Call.
//
// A problem with a parameter that identifies the call (Action, Event,
// Call.Sid, Call.StartDate, and Call.Duration of a Call.Complete) or
// with the request as a whole (too many parameters, a name that is
// empty, too long or not UTF-8) is an error: request-wide problems
// first, the one with the smallest name when several parameters have
// one, then the fields in a fixed order (Action, Event, Call.Sid,
// Call.StartDate, Call.Duration). The error is always a *FieldError.
//
// Any other parameter whose value is malformed (not UTF-8, over 4096
// bytes, given twice with different values, or not what its field
// takes) is left out of the call and listed in Call.Dropped, sorted by
// name: a rejected webhook is a lost call, an optional field is not
// worth one. See the package comment for what is repaired, kept or
// rejected.
func Decode(params url.Values) (*forwarder.Call, error) {
	if len(params) > maxParams {
		return nil, tooManyParams()
	}
	complete := len(params["Event"]) > 0 && strings.TrimSpace(params["Event"][0]) == string(forwarder.EventComplete)
	c := &forwarder.Call{}
	var bad *FieldError
	var badName string
	var skip map[string]bool // dropped before decoding
	for name, vs := range params {
		if name == tokenParam {
			continue
		}
		if fe := checkParam(name, vs); fe != nil {
			if fe.Field != name || isRequired(name, complete) {
				if bad == nil || name < badName {
					bad, badName = fe, name
				}
				continue
			}
			c.Dropped = append(c.Dropped, forwarder.DroppedField{Field: name, Reason: fe.Problem})
			if skip == nil {
				skip = map[string]bool{}
			}
			skip[name] = true
			continue
		}
		if bad != nil {
			continue
		}
		if _, ok := fieldIndex[name]; ok || len(vs) == 0 {
			continue
		}
		if v := strings.TrimSpace(vs[0]); v != "" {
			if c.Extra == nil {
				c.Extra = make(map[string]string)
			}
			c.Extra[name] = v
		}
	}
	if bad != nil {
		return nil, bad
	}
	for i := range fields {
		f := &fields[i]
		raw := ""
		if vs := params[f.name]; len(vs) > 0 && !skip[f.name] {
			raw = vs[0]
		}
		if f.text != nil {
			*f.text(c) = strings.TrimSpace(raw)
			continue
		}
		if problem := f.set(c, raw); problem != "" {
			if isRequired(f.name, complete) {
				return nil, &FieldError{Field: f.name, Problem: problem}
			}
			c.Dropped = append(c.Dropped, forwarder.DroppedField{Field: f.name, Reason: problem})
		}
	}
	slices.SortFunc(c.Dropped, func(a, b forwarder.DroppedField) int { return strings.Compare(a.Field, b.Field) })
	return c, nil
}

// IsField reports whether name is a documented webhook parameter (one
// that has a field of forwarder.Call), as opposed to one kept in
// Call.Extra.
func IsField(name string) bool {
	_, ok := fieldIndex[name]
	return ok
}

// isRequired reports whether a problem with the named parameter costs the
// call rather than the parameter: the ones that identify the call, and
// the duration a Call.Complete reports (rules qualify calls by it).
func isRequired(name string, complete bool) bool {
	switch name {
	case "Action", "Event", "Call.Sid", "Call.StartDate":
		return true
	case "Call.Duration":
		return complete
	}
	return false
}

// checkParam applies the request-wide rules to one parameter.
func checkParam(name string, vs []string) *FieldError {
	switch {
	case name == "":
		return &FieldError{Field: FieldBody, Problem: "empty parameter name"}
	case len(name) > maxNameLen:
		return &FieldError{Field: FieldBody, Problem: fmt.Sprintf("parameter name longer than %d bytes", maxNameLen)}
	case !utf8.ValidString(name):
		return &FieldError{Field: fieldName(name), Problem: "parameter name is not valid UTF-8"}
	}
	for i, v := range vs {
		switch {
		case !utf8.ValidString(v):
			return &FieldError{Field: name, Problem: "value is not valid UTF-8"}
		case len(v) > maxValueLen:
			return &FieldError{Field: name, Problem: fmt.Sprintf("value longer than %d bytes", maxValueLen)}
		case i > 0 && v != vs[0]:
			return &FieldError{Field: name, Problem: "given more than once with different values"}
		}
	}
	return nil
}

func tooManyParams() *FieldError {
	return &FieldError{Field: FieldBody, Problem: fmt.Sprintf("more than %d parameters", maxParams)}
}

// fieldName makes a parameter name fit for FieldError.Field: valid UTF-8
// and bounded, or FieldBody when it is too long to echo.
func fieldName(name string) string {
	if len(name) > maxNameLen {
		return FieldBody
	}
	return strings.ToValidUTF8(name, "\uFFFD")
}

// quote quotes a value for a Problem, cut to a readable length. Only for
// values that carry no personal data.
func quote(v string) string { return strconv.Quote(truncate(v)) }

// truncate cuts v to a readable length on a rune boundary.
func truncate(v string) string {
	const maxQuoted = 64
	if len(v) <= maxQuoted {
		return v
	}
	n := maxQuoted
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n] + "..."
}
