package googleads

import (
	"errors"
	"fmt"
	"math"

	"github.com/callforward/callforward/forwarder"
)

// The shapes of the identifiers, checked byte by byte: Validate runs for
// every conversion sent, and these matchers cost a small fraction of
// regular expressions'. Each matches exactly what its regular expression
// (in the comment) matches; TestPatternsMatchTheirRegexps holds them to it.

// isCustomerID: ^[0-9]{10}$
func isCustomerID(s string) bool { return len(s) == 10 && allDigits(s) }

// isActionID: ^[0-9]{1,19}$
func isActionID(s string) bool { return len(s) >= 1 && len(s) <= 19 && allDigits(s) }

// isGCLID: ^[A-Za-z0-9_-]{1,512}$
func isGCLID(s string) bool {
	if len(s) < 1 || len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// isSHA256Hex: ^[0-9a-f]{64}$
func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// isE164: ^\+[1-9][0-9]{6,14}$
func isE164(s string) bool {
	return len(s) >= 8 && len(s) <= 16 && s[0] == '+' && s[1] != '0' && allDigits(s[1:])
}

// isCurrency: ^[A-Z]{3}$
func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// allDigits reports whether every byte of s is an ASCII digit.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// maxTransactionID is the longest transaction (order) id sent.
const maxTransactionID = 64

// Validate checks a conversion against the rules Google applies, so that a
// conversion Google would refuse fails alone instead of failing a Data
// Manager batch. It returns nil or a forwarder.Permanent error whose code
// is Google's name for the problem where Google has one. It does not look
// at the clock; the sender also refuses conversions dated in the future.
func Validate(a *forwarder.AdsConversion) error {
	if a == nil {
		return permanent("NOT_A_GOOGLE_ADS_DELIVERY", "no conversion")
	}
	switch a.Backend {
	case forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI:
	default:
		return permanent("UNKNOWN_BACKEND", fmt.Sprintf("backend %q is not %s nor %s", a.Backend, forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI))
	}
	if a.Kind != forwarder.AdsClick && a.Kind != forwarder.AdsCall {
		return permanent("UNKNOWN_KIND", fmt.Sprintf("kind %q is not %s nor %s", a.Kind, forwarder.AdsClick, forwarder.AdsCall))
	}
	if !isCustomerID(a.CustomerID) {
		return permanent("INVALID_CUSTOMER_ID", "the customer id must be 10 digits without dashes")
	}
	if a.LoginCustomerID != "" && !isCustomerID(a.LoginCustomerID) {
		return permanent("INVALID_LOGIN_CUSTOMER_ID", "the login customer id must be 10 digits without dashes")
	}
	if !isActionID(a.ConversionAction) {
		return permanent("INVALID_CONVERSION_ACTION", "the conversion action must be its id (digits)")
	}
	if a.Time.IsZero() {
		return permanent("INVALID_CONVERSION_DATE_TIME", "the conversion has no time")
	}
	if a.GCLID != "" && !isGCLID(a.GCLID) {
		return permanent("UNPARSEABLE_GCLID", "the GCLID has characters a click id never has")
	}
	if a.HashedPhone != "" && !isSHA256Hex(a.HashedPhone) {
		return permanent("INVALID_USER_IDENTIFIER", "the hashed phone is not a SHA-256 hash in 64 lowercase hex digits")
	}
	if v := a.Value; v != nil && (*v < 0 || math.IsNaN(*v) || math.IsInf(*v, 0)) {
		return permanent("INVALID_CONVERSION_VALUE", "the value must be a number not below 0")
	}
	if a.Currency != "" && !isCurrency(a.Currency) {
		return permanent("UNSUPPORTED_CURRENCY_CODE", "the currency must be an ISO 4217 code such as AUD")
	}
	if len(a.TransactionID) > maxTransactionID {
		return permanent("TRANSACTION_ID_TOO_LONG", fmt.Sprintf("the transaction id has more than %d characters", maxTransactionID))
	}
	switch a.AdUserData {
	case "", "GRANTED", "DENIED":
	default:
		return permanent("INVALID_CONSENT", fmt.Sprintf("ad_user_data %q is not GRANTED nor DENIED", a.AdUserData))
	}
	if a.Kind == forwarder.AdsClick {
		if a.GCLID == "" && a.HashedPhone == "" {
			return permanent("MISSING_CLICK_IDENTIFIER", "a click conversion needs a GCLID or a hashed phone")
		}
		return nil
	}
	return validateCall(a)
}

// validateCall checks what a call conversion needs.
func validateCall(a *forwarder.AdsConversion) error {
	if a.CallStart.IsZero() {
		return permanent("INVALID_CALL_START_DATE_TIME", "a call conversion needs the call's start")
	}
	if a.Time.Before(a.CallStart) {
		return permanent("CONVERSION_PRECEDES_CALL", "the conversion time is before the call's start")
	}
	if a.Backend == forwarder.AdsBackendGoogleAdsAPI || a.HashedPhone == "" {
		if !isE164(a.CallerID) {
			return permanent("UNPARSEABLE_CALLERS_PHONE_NUMBER", "the caller id is not an E.164 number such as +61412345678")
		}
	}
	return nil
}

func permanent(code, msg string) error {
	return forwarder.Permanent(code, errors.New("googleads: "+msg))
}
