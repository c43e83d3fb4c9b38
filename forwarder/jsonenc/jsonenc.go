// Package jsonenc appends JSON values to a byte slice exactly as
// encoding/json writes them (its default HTML-safe escaping, its float
// format), for the encoders that write a request to Google or a stored
// record member by member instead of through reflection.
package jsonenc

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// AppendFloat appends f as encoding/json writes a float64: like ES6,
// shortest form, exponent only below 1e-6 and from 1e21 on, without a
// leading zero in a negative exponent. f is finite.
func AppendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// AppendString appends s as a JSON string, escaped as encoding/json
// escapes it by default.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = AppendStringContent(b, s)
	return append(b, '"')
}

// jsonSafe marks the ASCII bytes encoding/json writes as they are: the
// printable ones but the quote, the backslash and the HTML characters <,
// > and &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// AppendStringContent appends s escaped as inside a JSON string, as
// encoding/json escapes it: \" and \\, \b \f \n \r \t, \u00XX for the
// other control bytes and for <, > and &, \u2028 and \u2029, and \ufffd
// for each byte that is not UTF-8.
func AppendStringContent(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// AppendBytesContent appends s escaped as AppendStringContent escapes the
// string of the same bytes, without converting it: for writing a JSON
// document held in a byte slice as the value of a JSON string.
func AppendBytesContent(b []byte, s []byte) []byte {
	// The string shares s's bytes only for the call, which reads them.
	return AppendStringContent(b, unsafe.String(unsafe.SliceData(s), len(s)))
}

// AppendValue appends v as encoding/json writes it: strings, numbers,
// bools and nil here, anything else by encoding/json, whose error it
// returns (NaN and ±Inf fail as they do there); b is then returned as it
// was.
func AppendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return AppendString(b, x), nil
	case float64:
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return AppendFloat(b, x), nil
		}
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case nil:
		return append(b, "null"...), nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, enc...), nil
}
