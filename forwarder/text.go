package forwarder

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CleanText returns s fit to be sent to Google: tabs and line breaks
// become spaces; other control characters (NUL, C0, DEL, C1), bytes that
// are not UTF-8 and U+FFFD (what a lone surrogate or a broken byte was
// decoded to) are removed. Google stores such characters as they come,
// where they break reports and exports. s is returned as it is, without
// copying, when it has none of them.
func CleanText(s string) string {
	if !needsCleaning(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\t', r == '\n', r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError, unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// needsCleaning reports whether CleanText would change s.
func needsCleaning(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		} else if c >= utf8.RuneSelf {
			return strings.ContainsFunc(s[i:], func(r rune) bool { return r == utf8.RuneError || unicode.IsControl(r) }) || !utf8.ValidString(s[i:])
		}
	}
	return false
}

// CleanTexts returns d with CleanText applied to every text a sender puts
// in a request to Google: each sender calls it as it builds the request,
// so no sender can forget a field. Unchanged parts are shared with d, not
// copied.
func (d Delivery) CleanTexts() Delivery {
	if g := d.GA4; g != nil {
		c := *g
		c.ClientID, c.Name = CleanText(g.ClientID), CleanText(g.Name)
		c.Params, c.UserProperties = cleanValues(g.Params), cleanValues(g.UserProperties)
		d.GA4 = &c
	}
	if u := d.UA; u != nil {
		c := *u
		c.TrackingID, c.ClientID = CleanText(u.TrackingID), CleanText(u.ClientID)
		c.Category, c.Action, c.Label = CleanText(u.Category), CleanText(u.Action), CleanText(u.Label)
		c.Campaign = cleanStrings(u.Campaign)
		d.UA = &c
	}
	if a := d.Ads; a != nil {
		c := *a
		c.CustomerID, c.LoginCustomerID, c.ConversionAction = CleanText(a.CustomerID), CleanText(a.LoginCustomerID), CleanText(a.ConversionAction)
		c.GCLID, c.HashedPhone, c.CallerID = CleanText(a.GCLID), CleanText(a.HashedPhone), CleanText(a.CallerID)
		c.Currency, c.TransactionID, c.AdUserData = CleanText(a.Currency), CleanText(a.TransactionID), CleanText(a.AdUserData)
		d.Ads = &c
	}
	return d
}

// cleanValues returns m with CleanText applied to its keys and string
// values: m itself when none needs it.
func cleanValues(m map[string]any) map[string]any {
	dirty := false
	for k, v := range m {
		if s, ok := v.(string); needsCleaning(k) || ok && needsCleaning(s) {
			dirty = true
			break
		}
	}
	if !dirty {
		return m
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if s, ok := v.(string); ok {
			v = CleanText(s)
		}
		out[CleanText(k)] = v
	}
	return out
}

// cleanStrings is cleanValues for a map of strings.
func cleanStrings(m map[string]string) map[string]string {
	dirty := false
	for k, v := range m {
		if needsCleaning(k) || needsCleaning(v) {
			dirty = true
			break
		}
	}
	if !dirty {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[CleanText(k)] = CleanText(v)
	}
	return out
}
