package forwarder

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// MaxCallerHistoryDays is the longest look-back, in days, a rule may ask
// about a caller's earlier calls (first_call_within_days). The stores keep
// caller history at least that long.
const MaxCallerHistoryDays = 400

// CallerHistory is what the store knew about a call's caller when the call
// arrived: the time of the caller's latest earlier call. Intake fills it,
// and only while the rules ask about earlier calls; it never comes from the
// webhook. It is stored with the call, so re-planning a stored call judges
// it as it was judged on arrival, and Accept records the call under Key.
//
// It holds no phone number: Key is a one-way hash of the number.
type CallerHistory struct {
	// Key identifies the caller within the call's account (see CallerKey).
	// Empty when the caller cannot be identified: the number is withheld,
	// missing or not a valid phone number.
	Key string `json:"key,omitempty"`
	// At is the time the call counts under: its StartDate, or when it was
	// received if the webhook had none. Accept records it under Key.
	At time.Time `json:"at"`
	// Previous is the start of the caller's latest call before At on
	// record; zero when there is none.
	Previous time.Time `json:"previous,omitzero"`
	// Unavailable is true when the store could not be read, so whether the
	// caller called before is unknown.
	Unavailable bool `json:"unavailable,omitempty"`
}

// Known reports whether the history answers "did this caller call before":
// the caller was identified and the store was read.
func (h *CallerHistory) Known() bool { return h != nil && h.Key != "" && !h.Unavailable }

// SincePrevious is the time between the caller's previous call and this
// one; ok is false when there is no previous call on record (or the history
// is not Known).
func (h *CallerHistory) SincePrevious() (d time.Duration, ok bool) {
	if !h.Known() || h.Previous.IsZero() {
		return 0, false
	}
	return h.At.Sub(h.Previous), true
}

// callerKeyDomain separates caller keys from every other hash of a phone
// number (such as the SHA-256 sent to Google), so that the two cannot be
// joined.
const callerKeyDomain = "callforward caller history v1\x00"

// CallerKey returns the key the stores record a caller's calls under: the
// SHA-256, as 64 lowercase hexadecimal characters, of the account and the
// caller's E.164 number. Including the account scopes a caller's history
// to one Fone Dynamics account: a number that called one business is new
// to another.
func CallerKey(accountSid, e164 string) string {
	h := sha256.New()
	h.Write([]byte(callerKeyDomain))
	h.Write([]byte(accountSid))
	h.Write([]byte{0})
	h.Write([]byte(e164))
	return hex.EncodeToString(h.Sum(nil))
}

// ValidCallerKey reports whether k has the form CallerKey returns.
func ValidCallerKey(k string) bool {
	if len(k) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
