package mapping

import (
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/userdata"
)

// adsAction records one Google Ads conversion.
type adsAction struct {
	dest string
	// conv holds what is the same for every call: backend, kind, customer
	// ids, conversion action, currency and consent.
	conv forwarder.AdsConversion
	// value is the conversion value (nil: none); defaultValue replaces it
	// when the field it reads is missing.
	value        *value
	defaultValue *float64
	// atEnd: the conversion time is the call's end, not its start.
	atEnd bool
	// hashPhone: a click conversion carries the caller's hashed number.
	hashPhone bool
	// region reads national caller numbers (settings.default_region).
	region   string
	idSuffix string // "/rule/destination", the tail of the delivery ID
	// pos is where conversion_action is given.
	pos Pos
}

// Reasons a Google Ads action is skipped. The details never quote the
// number.
const (
	skipNoClickID = "the call has no Google.AdWords.ClickId, which a click conversion needs (caller_phone: hashed would let enhanced conversions match the caller's number instead)"
	skipNoMatch   = "the call has no Google.AdWords.ClickId and no usable caller number for enhanced conversions"
	skipNoCaller  = "the call has no usable caller number, which identifies a call conversion"
)

func (a *adsAction) destination() string { return a.dest }

func (a *adsAction) plan(c *forwarder.Call, rule string) (forwarder.Delivery, string) {
	conv := a.conv
	if conv.Kind == forwarder.AdsCall {
		e164, err := userdata.NormalizePhone(c.From, a.region)
		if err != nil {
			return forwarder.Delivery{}, skipNoCaller + " (" + a.phoneProblem(c, err) + ")"
		}
		conv.CallerID = e164
	} else {
		var phoneErr error
		if a.hashPhone {
			var e164 string
			if e164, phoneErr = userdata.NormalizePhone(c.From, a.region); phoneErr == nil {
				conv.HashedPhone = userdata.HashPhone(e164)
			}
		}
		switch {
		case c.GCLID == "" && !a.hashPhone:
			return forwarder.Delivery{}, skipNoClickID
		case c.GCLID == "" && conv.HashedPhone == "":
			return forwarder.Delivery{}, skipNoMatch + " (" + a.phoneProblem(c, phoneErr) + ")"
		}
		conv.GCLID = c.GCLID
	}
	conv.CallStart = c.StartDate
	conv.Time = c.StartDate
	if a.atEnd {
		conv.Time = c.EndTime()
	}
	conv.Value = a.render(c)
	if conv.Value == nil {
		conv.Currency = ""
	}
	conv.TransactionID = transactionID(c.Sid, rule)
	return forwarder.Delivery{
		ID:          c.Sid + a.idSuffix,
		CallSid:     c.Sid,
		Rule:        rule,
		Destination: a.dest,
		Type:        forwarder.DestinationGoogleAds,
		CallTime:    c.StartDate,
		Ads:         &conv,
	}, ""
}

// render returns the conversion value for c: the value, or the default
// when the field it reads is missing or negative (Google Ads refuses
// negative values); nil when there is neither.
func (a *adsAction) render(c *forwarder.Call) *float64 {
	if a.value != nil {
		if v, ok := a.value.render(c); ok {
			if f := toFloat(v); f >= 0 {
				return &f
			}
		}
	}
	if a.defaultValue != nil {
		f := *a.defaultValue
		return &f
	}
	return nil
}

// phoneProblem says why the caller's number of c is unusable, without
// quoting it.
func (a *adsAction) phoneProblem(c *forwarder.Call, err error) string {
	switch {
	case errors.Is(err, userdata.ErrAnonymous):
		return "the caller withheld the number"
	case errors.Is(err, userdata.ErrNoPhone):
		return "the call has no Call.From"
	case a.region == "" && !strings.HasPrefix(strings.TrimSpace(c.From), "+"):
		return "Call.From has no country code and the rules file sets no settings: default_region to read it in"
	}
	return "Call.From is not a valid phone number"
}

// toFloat converts a rendered number (int or float64) to float64.
func toFloat(v any) float64 {
	switch v := v.(type) {
	case int:
		return float64(v)
	case float64:
		return v
	}
	return -1
}

// transactionID is the conversion's transaction (order) id: stable for a
// call and rule, so that a re-sent conversion is counted once, and free of
// personal data, which Google forbids in order ids. It is the first 128
// bits of SHA-256(CallSid + "/" + rule), written with the letters a to p
// (hexadecimal with letters for digits): 32 characters, well within every
// backend's limit, and no run of digits that Google's personal-data check
// could take for a phone number. The destination is left out on purpose:
// two destinations that turn out to be the same account and action then
// deduplicate instead of counting the call twice.
func transactionID(sid, rule string) string {
	const letters = "abcdefghijklmnop"
	sum := sha256.Sum256([]byte(sid + "/" + rule))
	var b [32]byte
	for i, x := range sum[:16] {
		b[2*i], b[2*i+1] = letters[x>>4], letters[x&15]
	}
	return string(b[:])
}
