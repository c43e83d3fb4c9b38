package diagnose

import "strings"

// reasonPrefixes are stripped from Google's reason codes; what is left is
// the part a person recognises from Google Ads' own diagnostics.
var reasonPrefixes = []string{"PROCESSING_ERROR_REASON_", "PROCESSING_ERROR_"}

// ShortReason is Google's reason code without its enum prefix.
func ShortReason(reason string) string {
	for _, p := range reasonPrefixes {
		if r, ok := strings.CutPrefix(reason, p); ok {
			return r
		}
	}
	return reason
}

// alreadyCounted are the processing reasons that mean Google already holds
// the conversion: a retry after a lost reply, or the same call sent twice
// by the platform. They are Counted, not Rejected.
var alreadyCounted = map[string]bool{
	"DUPLICATE_TRANSACTION_ID": true,
	"DUPLICATE_GCLID":          true,
}
