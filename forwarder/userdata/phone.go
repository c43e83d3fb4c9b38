package userdata

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Errors of NormalizePhone. Neither quotes the number: callers may log them.
var (
	// ErrNoPhone means there was no number at all.
	ErrNoPhone = errors.New("no phone number")
	// ErrAnonymous means the caller withheld the number.
	ErrAnonymous = errors.New("the caller withheld the number")
	// ErrInvalidPhone means the text is not a valid phone number (in the
	// default region, when it has no country code).
	ErrInvalidPhone = errors.New("not a valid phone number")
)

// withheld are the values telephony platforms put in place of a withheld
// caller id, lower-cased.
var withheld = map[string]bool{
	"anonymous": true, "private": true, "withheld": true, "restricted": true,
	"unknown": true, "unavailable": true,
}

// NormalizePhone returns raw in E.164 (+<country code><number>, digits
// only). A number without a country code is read in defaultRegion (an ISO
// 3166-1 alpha-2 code in capitals such as "AU"); with an empty defaultRegion
// only numbers that carry their country code are accepted. Spaces, dashes,
// dots and brackets are ignored. Empty, withheld and invalid numbers are
// errors (ErrNoPhone, ErrAnonymous, ErrInvalidPhone), whose text never
// quotes the number.
func NormalizePhone(raw, defaultRegion string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", ErrNoPhone
	case withheld[strings.ToLower(s)]:
		return "", ErrAnonymous
	}
	n, err := phonenumbers.Parse(s, defaultRegion)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPhone, err)
	}
	if !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalidPhone
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// HashPhone returns the SHA-256 of an E.164 number (as NormalizePhone
// returns it) as 64 lowercase hexadecimal characters: Google hashes the
// text including the leading "+".
func HashPhone(e164 string) string { return sha256Hex(e164) }

// KnownRegion reports whether region is a region code NormalizePhone can
// read national numbers in (ISO 3166-1 alpha-2, in capitals).
func KnownRegion(region string) bool { return phonenumbers.GetCountryCodeForRegion(region) != 0 }
