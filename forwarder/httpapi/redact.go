package httpapi

import "unicode/utf8"

// redactedToken replaces a token in a kept request.
var redactedToken = []byte("REDACTED")

// redact returns b with every occurrence of a secret replaced by
// redactedToken, however it is written: as it is, or with any of its
// bytes percent-encoded (hex in either case), a space as '+', or a
// character as a JSON escape (\u0074, \/). A refused request is kept for
// an operator to read; a token in it, in whatever spelling the sender
// chose, must not be.
func redact(b []byte, secrets [][]byte) []byte {
	for _, s := range secrets {
		if len(s) == 0 {
			continue
		}
		var out []byte
		last := 0
		for i := 0; i < len(b); i++ {
			if c := b[i]; c != s[0] && c != '%' && c != '+' && c != '\\' {
				continue
			}
			n := encodedLen(b[i:], s)
			if n <= 0 {
				continue
			}
			out = append(append(out, b[last:i]...), redactedToken...)
			last = i + n
			i = last - 1
		}
		if out != nil {
			b = append(out, b[last:]...)
		}
	}
	return b
}

// encodedLen returns the length of an encoding of tok at the start of b,
// or -1 when b does not start with one.
func encodedLen(b, tok []byte) int {
	if len(tok) == 0 {
		return 0
	}
	// A JSON escape of a whole non-ASCII character.
	if r, size := utf8.DecodeRune(tok); r >= utf8.RuneSelf {
		if v, ok := jsonEscape(b); ok && v == r {
			if n := encodedLen(b[6:], tok[size:]); n >= 0 {
				return 6 + n
			}
		}
	}
	c := tok[0]
	try := func(skip int) int {
		if n := encodedLen(b[skip:], tok[1:]); n >= 0 {
			return skip + n
		}
		return -1
	}
	if len(b) > 0 && b[0] == c {
		if n := try(1); n >= 0 {
			return n
		}
	}
	if len(b) >= 3 && b[0] == '%' && unhex(b[1]) >= 0 && unhex(b[2]) >= 0 && unhex(b[1])<<4|unhex(b[2]) == int(c) {
		if n := try(3); n >= 0 {
			return n
		}
	}
	if c == ' ' && len(b) > 0 && b[0] == '+' {
		if n := try(1); n >= 0 {
			return n
		}
	}
	if v, ok := jsonEscape(b); ok && v == rune(c) && c < utf8.RuneSelf {
		if n := try(6); n >= 0 {
			return n
		}
	}
	if (c == '/' || c == '"' || c == '\\') && len(b) >= 2 && b[0] == '\\' && b[1] == c {
		if n := try(2); n >= 0 {
			return n
		}
	}
	return -1
}

// jsonEscape decodes a \uXXXX escape at the start of b.
func jsonEscape(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, h := range b[2:6] {
		v := unhex(h)
		if v < 0 {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// unhex is the value of a hex digit, -1 for another byte.
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
