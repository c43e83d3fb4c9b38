package userdata

import (
	"errors"
	"strings"
	"unicode"
)

// ErrInvalidEmail means the text is not an e-mail address (empty, or not
// local@domain). It never quotes the address.
var ErrInvalidEmail = errors.New("not an e-mail address")

// NormalizeEmail returns raw the way Google matches e-mail addresses: every
// space removed, lower-cased, and for gmail.com and googlemail.com every
// dot of the local part removed together with any "+tag" suffix
// ("Jane.Doe+ads@Gmail.com" becomes "janedoe@gmail.com"). Other domains
// keep their dots and tags, which may be significant there.
func NormalizeEmail(raw string) (string, error) {
	s := strings.ToLower(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, raw))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrInvalidEmail
	}
	local, domain := s[:at], s[at+1:]
	if domain == "gmail.com" || domain == "googlemail.com" {
		if plus := strings.IndexByte(local, '+'); plus >= 0 {
			local = local[:plus]
		}
		local = strings.ReplaceAll(local, ".", "")
		if local == "" {
			return "", ErrInvalidEmail
		}
		return local + "@" + domain, nil
	}
	return s, nil
}

// HashEmail returns the SHA-256 of a normalised address (as NormalizeEmail
// returns it) as 64 lowercase hexadecimal characters.
func HashEmail(normalized string) string { return sha256Hex(normalized) }
