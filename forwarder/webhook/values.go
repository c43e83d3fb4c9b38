package webhook

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/callforward/callforward/forwarder"
)

// isEventName reports whether v has the form Word.Word (ASCII letters).
func isEventName(v string) bool {
	dot := strings.IndexByte(v, '.')
	return len(v) <= 64 && dot > 0 && isLetters(v[:dot]) && isLetters(v[dot+1:])
}

func isLetters(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// maxSidLen bounds a call id: it becomes part of delivery IDs and store keys.
const maxSidLen = 128

// isSid reports whether v is 1..128 of [A-Za-z0-9_.:-]. '/' is excluded
// because delivery IDs join the call id with '/'.
func isSid(v string) bool {
	if v == "" || len(v) > maxSidLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_', c == '.', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// startDateLayouts are tried in order: the platform's own layout first.
// Layouts without a zone are read as UTC.
var startDateLayouts = [...]string{
	"2006-01-02 15:04:05",
	time.RFC3339,
	"2006-01-02T15:04:05",
}

// maxStartAhead is how far ahead of the clock a start date may be: a
// day covers any clock skew and any zone mistake (a local time sent as
// UTC is at most 14 hours off); a later date is a sender bug, which
// Google would refuse anyway.
const maxStartAhead = 24 * time.Hour

// parseStartDate reads a call's start date and returns it in UTC.
func parseStartDate(v string) (time.Time, string) {
	// An RFC 3339 offset sent unencoded in a GET query ("+10:00") arrives
	// as " 10:00"; the space is never valid there, so give the '+' back.
	if n := len(v); n > 19 && v[10] == 'T' && v[n-6] == ' ' {
		v = v[:n-6] + "+" + v[n-5:]
	}
	for _, layout := range startDateLayouts {
		t, err := time.Parse(layout, v)
		if err != nil {
			continue
		}
		t = t.UTC()
		// Outside these years the date is a sender bug, and JSON (which
		// stores and reports carry) cannot hold years past 9999.
		if y := t.Year(); y < 1970 || y > 9999 {
			return time.Time{}, "out of range: " + quote(v)
		}
		if t.After(time.Now().Add(maxStartAhead)) {
			return time.Time{}, "more than " + maxStartAhead.String() + " ahead of this server's clock: " + quote(v)
		}
		return t, ""
	}
	return time.Time{}, `not a date ("2006-01-02 15:04:05" UTC or RFC 3339): ` + quote(v)
}

// maxCount bounds the integers (seconds, survey values): far above any real
// value, and small enough that a duration in seconds converts to a
// time.Duration without overflow.
const maxCount = math.MaxInt32

// parseCount reads a non-negative integer. A JSON body may write it as a
// number with a zero fraction or an exponent (187.0, 1.87e2); a value with
// a non-zero fraction is not an integer.
func parseCount(v string) (int, string) {
	if v[0] == '-' {
		return 0, "must not be negative: " + quote(v)
	}
	intEnd, fracEnd, ok := scanNumber(v)
	if !ok {
		return 0, "not an integer: " + quote(v)
	}
	if fracEnd == len(v) && strings.Trim(v[intEnd:fracEnd], ".0") == "" {
		// Plain digits, maybe with a zero fraction: exact.
		i, err := strconv.ParseInt(v[:intEnd], 10, 64)
		if err != nil || i > maxCount {
			return 0, "out of range: " + quote(v)
		}
		return int(i), ""
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n > maxCount {
		return 0, "out of range: " + quote(v)
	}
	if n != math.Trunc(n) {
		return 0, "not an integer: " + quote(v)
	}
	return int(n), ""
}

// scanNumber checks that v is an unsigned JSON number: digits, an optional
// fraction, an optional exponent. It returns where the integer digits and
// the fraction end.
func scanNumber(v string) (intEnd, fracEnd int, ok bool) {
	i := digitsEnd(v, 0)
	if i == 0 {
		return 0, 0, false
	}
	intEnd = i
	if i < len(v) && v[i] == '.' {
		j := digitsEnd(v, i+1)
		if j == i+1 {
			return 0, 0, false
		}
		i = j
	}
	fracEnd = i
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		j := digitsEnd(v, i)
		if j == i {
			return 0, 0, false
		}
		i = j
	}
	return intEnd, fracEnd, i == len(v)
}

func digitsEnd(v string, i int) int {
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	return i
}

// normalisePhone repairs a phone number. A leading space followed by a
// digit is a '+' decoded from an unencoded GET query. In a number starting
// with '+', spaces, dashes, dots, parentheses and a "(0)" trunk prefix are
// removed when that yields E.164. Otherwise the value is kept as given
// (trimmed): the call may still be convertible by its click id or client id.
// With anonymous, any case of "anonymous" becomes forwarder.AnonymousCaller.
func normalisePhone(raw string, anonymous bool) string {
	v := raw
	if len(v) > 1 && v[0] == ' ' && v[1] >= '0' && v[1] <= '9' {
		v = "+" + v[1:]
	}
	v = strings.TrimSpace(v)
	if v == "" || isE164(v) {
		return v
	}
	if anonymous && strings.EqualFold(v, forwarder.AnonymousCaller) {
		return forwarder.AnonymousCaller
	}
	if v[0] == '+' {
		if clean := stripSeparators(v); isE164(clean) {
			return clean
		}
	}
	return v
}

// stripSeparators removes the characters people write inside phone numbers.
func stripSeparators(v string) string {
	v = strings.ReplaceAll(v, "(0)", "")
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '-', '.', '(', ')':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// isE164 reports whether v matches ^\+[1-9][0-9]{6,14}$.
func isE164(v string) bool {
	if len(v) < 8 || len(v) > 16 || v[0] != '+' || v[1] < '1' || v[1] > '9' {
		return false
	}
	return digitsEnd(v, 2) == len(v)
}

// normaliseDisposition trims and upper-cases; NO_ANSWER, NOANSWER and the
// like become "NO ANSWER". Unknown values are kept.
func normaliseDisposition(raw string) forwarder.Disposition {
	v := strings.ToUpper(strings.TrimSpace(raw))
	if v != string(forwarder.DispositionNoAnswer) && isNoAnswer(v) {
		return forwarder.DispositionNoAnswer
	}
	return forwarder.Disposition(v)
}

// isNoAnswer reports whether v spells NOANSWER with any spaces,
// underscores or dashes between the letters.
func isNoAnswer(v string) bool {
	const want = "NOANSWER"
	n := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '_', '-':
		default:
			if n == len(want) || c != want[n] {
				return false
			}
			n++
		}
	}
	return n == len(want)
}

// maxClientIDPart bounds each number of a client id (a 32-bit random and a
// timestamp in practice).
const maxClientIDPart = 20

// normaliseClientID accepts a GA client id "X.Y" (digits.digits) or a whole
// _ga cookie "GA1.N.X.Y" and returns "X.Y". "" stays "" (absent).
func normaliseClientID(v string) (string, bool) {
	if v == "" {
		return "", true
	}
	if strings.HasPrefix(v, "GA") {
		// GA<version>.<domain depth>.X.Y
		i := digitsEnd(v, 2)
		if i == 2 || i == len(v) || v[i] != '.' {
			return "", false
		}
		j := digitsEnd(v, i+1)
		if j == i+1 || j == len(v) || v[j] != '.' {
			return "", false
		}
		v = v[j+1:]
	}
	dot := digitsEnd(v, 0)
	if dot == 0 || dot > maxClientIDPart || dot == len(v) || v[dot] != '.' {
		return "", false
	}
	end := digitsEnd(v, dot+1)
	if end == dot+1 || end-dot-1 > maxClientIDPart || end != len(v) {
		return "", false
	}
	return v, true
}

// splitList splits a comma list, trimming items and dropping empty ones;
// nil when nothing is left.
func splitList(raw string) []string {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var out []string
	for item := range strings.SplitSeq(raw, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }
