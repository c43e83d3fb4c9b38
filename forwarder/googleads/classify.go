package googleads

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/httpreply"
	"google.golang.org/api/googleapi"
)

// notAllowlisted is Google's answer to click uploads through the Google
// Ads API from developer tokens that started after the Data Manager API
// became the path for new importers.
const notAllowlisted = "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE"

// notAllowlistedHint tells the operator what to do about notAllowlisted.
const notAllowlistedHint = "Google no longer accepts click conversion uploads through the Google Ads API for this account: set backend: data_manager on the destination in the rules file"

// excerptRunes bounds the Google message quoted in an error.
const excerptRunes = 300

// failure is what the sender reads of a request Google refused.
type failure struct {
	status  int    // HTTP status
	code    string // Google's most precise name for the problem
	message string // Google's message, not yet scrubbed
	header  http.Header
	// violations are the fields of a google.rpc.BadRequest detail.
	violations []violation
}

// violation is one field violation of a google.rpc.BadRequest detail.
type violation struct {
	field, reason string
}

// readFailure extracts a failure from a *googleapi.Error: the code is the
// GoogleAdsFailure error code, else the ErrorInfo reason, else the
// canonical status, else http_<status>.
func readFailure(e *googleapi.Error) failure {
	f := failure{status: e.Code, message: e.Message, header: e.Header, code: fmt.Sprintf("http_%d", e.Code)}
	var adsCode, reason string
	for _, d := range e.Details {
		m, _ := d.(map[string]any)
		typ, _ := m["@type"].(string)
		switch {
		case strings.HasSuffix(typ, ".GoogleAdsFailure"):
			errs, _ := m["errors"].([]any)
			for _, x := range errs {
				em, _ := x.(map[string]any)
				codes, _ := em["errorCode"].(map[string]any)
				if _, v := firstCode(codes); v != "" && adsCode == "" {
					adsCode = v
				}
			}
		case strings.HasSuffix(typ, "google.rpc.ErrorInfo"):
			if r, _ := m["reason"].(string); r != "" && reason == "" {
				reason = r
			}
		case strings.HasSuffix(typ, "google.rpc.BadRequest"):
			vs, _ := m["fieldViolations"].([]any)
			for _, x := range vs {
				vm, _ := x.(map[string]any)
				field, _ := vm["field"].(string)
				r, _ := vm["reason"].(string)
				f.violations = append(f.violations, violation{field: field, reason: r})
			}
		}
	}
	switch {
	case adsCode != "":
		f.code = adsCode
	case reason != "":
		f.code = reason
	case statusOf(e) != "":
		f.code = statusOf(e)
	}
	return f
}

// statusOf returns the canonical status ("INVALID_ARGUMENT") of e, which
// the library does not decode: it is read from the body.
func statusOf(e *googleapi.Error) string {
	m := statusPattern.FindStringSubmatch(e.Body)
	if m == nil {
		return ""
	}
	return m[1]
}

var statusPattern = regexp.MustCompile(`"status"\s*:\s*"([A-Z_]+)"`)

// firstCode returns the family and value of a GoogleAdsError errorCode
// (a oneof: one key), choosing the first key in order if there are more.
func firstCode(codes map[string]any) (family, value string) {
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v, ok := codes[k].(string); ok && v != "" {
			return k, v
		}
	}
	return "", ""
}

// classifyFailure maps a request Google refused as a whole.
func (s *Sender) classifyFailure(op string, f failure, red redactor, now time.Time) error {
	err := fmt.Errorf("%s: HTTP %d %s: %s", op, f.status, f.code, red.scrub(f.message))
	if f.code == notAllowlisted {
		return forwarder.Permanent(f.code, fmt.Errorf("%s: %s", op, notAllowlistedHint))
	}
	return httpreply.Decide(f.status, f.header.Get("Retry-After"), now).Error(f.code, err)
}

// classifyTransport maps a failure to get any answer: no token, a
// cancelled context, a network error.
func classifyTransport(ctx context.Context, op string, err error) error {
	if te, ok := credentials.AsTokenError(err); ok {
		if te.Revoked() {
			return forwarder.Transient("oauth_invalid_grant", fmt.Errorf("%s: %w", op, te))
		}
		return forwarder.Transient("oauth_token", fmt.Errorf("%s: %w", op, te))
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return forwarder.Transient("canceled", fmt.Errorf("%s: %w", op, ctxErr))
	}
	return forwarder.Transient("network", fmt.Errorf("%s: %w", op, err))
}

// invalidate drops the cached token of ts after a 401, when ts can.
func invalidate(ts any) {
	if inv, ok := ts.(interface{ Invalidate() }); ok {
		inv.Invalidate()
	}
}

// redactor scrubs the personal values of a batch from Google's messages.
type redactor struct {
	values []string
}

func newRedactor(convs []*forwarder.AdsConversion) redactor {
	var r redactor
	for _, a := range convs {
		for _, v := range []string{a.GCLID, a.CallerID, strings.TrimPrefix(a.CallerID, "+"), a.HashedPhone} {
			if len(v) >= 4 {
				r.values = append(r.values, v)
			}
		}
	}
	// Longest first, so that a value containing another is scrubbed whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
	return r
}

// scrub returns s on one line, without the batch's values, shortened.
func (r redactor) scrub(s string) string {
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, "<redacted>")
	}
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "?")), " ")
	if utf8.RuneCountInString(s) > excerptRunes {
		s = string([]rune(s)[:excerptRunes]) + "…"
	}
	if s == "" {
		return "(no message)"
	}
	return s
}
