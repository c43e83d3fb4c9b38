// Package callview is what a person is shown of a call: in `calls show`,
// the read API and the console. Personal data is masked here, in one
// place, so that no view can show more than another.
package callview

import (
	"strings"
	"unicode/utf8"
)

// maskRune stands for each hidden character.
const maskRune = "•"

// Phone masks a phone number down to its last three digits, e.g.
// "+61 2 9999 9123" to "•••123". Everything but the last three digits is
// hidden, including how many digits there were.
func Phone(s string) string {
	var digits []rune
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) == 0 {
		return ""
	}
	if len(digits) <= 3 {
		return strings.Repeat(maskRune, 3)
	}
	return strings.Repeat(maskRune, 3) + string(digits[len(digits)-3:])
}

// ID shortens an identifier that is personal data (a GA client id, a
// GCLID) to its first four characters, enough to tell two apart on a page
// and to find one in Google's own reports, not enough to reuse it. A value
// of eight characters or fewer is hidden whole.
func ID(s string) string {
	if s == "" {
		return ""
	}
	if utf8.RuneCountInString(s) <= 8 {
		return strings.Repeat(maskRune, 3)
	}
	r := []rune(s)
	return string(r[:4]) + "…"
}
