package webhook

import (
	"fmt"
	"net/url"
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
// Request-wide problems (too many parameters, a name that is empty, too
// long or not UTF-8, a value that is not UTF-8 or over 4096 bytes, a
// parameter given twice with different values) are reported first; when
// several parameters have one, the one with the smallest name is reported.
// Then the known fields are decoded in a fixed order (Action, Event,
// Call.Sid, Call.StartDate, then the others) and the first problem is
// returned. The error is always a *FieldError. See the package comment for
// what is repaired, kept or rejected.
func Decode(params url.Values) (*forwarder.Call, error) {
	if len(params) > maxParams {
		return nil, tooManyParams()
	}
	c := &forwarder.Call{}
	var bad *FieldError
	var badName string
	for name, vs := range params {
		if name == tokenParam {
			continue
		}
		if fe := checkParam(name, vs); fe != nil {
			if bad == nil || name < badName {
				bad, badName = fe, name
			}
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
		if vs := params[f.name]; len(vs) > 0 {
			raw = vs[0]
		}
		if f.text != nil {
			*f.text(c) = strings.TrimSpace(raw)
			continue
		}
		if problem := f.set(c, raw); problem != "" {
			return nil, &FieldError{Field: f.name, Problem: problem}
		}
	}
	return c, nil
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
