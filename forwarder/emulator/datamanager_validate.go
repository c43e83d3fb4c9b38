package emulator

import (
	"encoding/base64"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Limits of IngestEventsRequest.
const (
	dmMaxEvents          = 2000
	dmMaxDestinations    = 10
	dmMaxUserIdentifiers = 10
	dmMaxTransactionID   = 256
	// dmFutureSkew is how far in the future an event may be dated.
	dmFutureSkew = 10 * time.Minute
)

var (
	digitsPattern   = regexp.MustCompile(`^[0-9]{1,19}$`)
	clickIDPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,512}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	sha256Hex       = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Enumerations of the Data Manager API (google.golang.org/api/datamanager/v1).
var (
	dmEventSources = []string{"EVENT_SOURCE_UNSPECIFIED", "WEB", "APP", "IN_STORE", "PHONE", "MESSAGE", "OTHER"}
	dmConsents     = []string{"CONSENT_STATUS_UNSPECIFIED", "CONSENT_GRANTED", "CONSENT_DENIED"}
	dmEncodings    = []string{"ENCODING_UNSPECIFIED", "HEX", "BASE64"}
)

// badRequestType is the type URL of a google.rpc.BadRequest detail.
const badRequestType = "type.googleapis.com/google.rpc.BadRequest"

// badRequest is a google.rpc.BadRequest detail.
type badRequest struct {
	Type            string           `json:"@type"`
	FieldViolations []fieldViolation `json:"fieldViolations"`
}

// fieldViolation is one finding of the fast-fail validation. Field is a
// path such as "events[3].event_timestamp".
type fieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
	Reason      string `json:"reason"`
}

// violations collects field violations.
type violations []fieldViolation

func (v *violations) add(field, reason, format string, args ...any) {
	*v = append(*v, fieldViolation{Field: field, Reason: reason, Description: fmt.Sprintf(format, args...)})
}

// validateIngest returns every reason Google would refuse req for; any
// one of them fails the whole request.
func validateIngest(req *dmRequest, cfg AdsConfig, now time.Time) violations {
	var v violations
	refs := validateDestinations(&v, req.Destinations, cfg)
	if !slices.Contains(append([]string{""}, dmEncodings...), req.Encoding) {
		v.add("encoding", "INVALID_ENUM_VALUE", "unknown encoding %q", req.Encoding)
	}
	validateConsent(&v, "consent", req.Consent)
	switch n := len(req.Events); {
	case n == 0:
		v.add("events", "REQUIRED_FIELD_MISSING", "at least one event is required")
	case n > dmMaxEvents:
		v.add("events", "TOO_MANY_EVENTS", "%d events; at most %d per request", n, dmMaxEvents)
		return v
	}
	withUserData := false
	for i := range req.Events {
		e := &req.Events[i]
		validateEvent(&v, fmt.Sprintf("events[%d]", i), e, req.Encoding, refs, now)
		withUserData = withUserData || (e.UserData != nil && len(e.UserData.UserIdentifiers) > 0)
	}
	if withUserData && (req.Encoding == "" || req.Encoding == "ENCODING_UNSPECIFIED") {
		v.add("encoding", "ENCODING_REQUIRED", "encoding (HEX or BASE64) is required with user identifiers")
	}
	return v
}

// validateDestinations checks the destinations and returns their
// references.
func validateDestinations(v *violations, ds []dmDestination, cfg AdsConfig) []string {
	switch {
	case len(ds) == 0:
		v.add("destinations", "REQUIRED_FIELD_MISSING", "at least one destination is required")
	case len(ds) > dmMaxDestinations:
		v.add("destinations", "TOO_MANY_DESTINATIONS", "%d destinations; at most %d", len(ds), dmMaxDestinations)
	}
	var refs []string
	for i, d := range ds {
		path := fmt.Sprintf("destinations[%d]", i)
		if d.OperatingAccount == nil {
			v.add(path+".operating_account", "REQUIRED_FIELD_MISSING", "operating account is required")
		} else {
			validateAccount(v, path+".operating_account", d.OperatingAccount)
		}
		if d.LoginAccount != nil {
			validateAccount(v, path+".login_account", d.LoginAccount)
		}
		if d.LinkedAccount != nil {
			validateAccount(v, path+".linked_account", d.LinkedAccount)
		}
		switch {
		case !digitsPattern.MatchString(d.ProductDestinationID):
			v.add(path+".product_destination_id", "INVALID_PRODUCT_DESTINATION_ID", "must be the conversion action id (digits)")
		case len(cfg.KnownActions) > 0 && !slices.Contains(cfg.KnownActions, d.ProductDestinationID):
			v.add(path+".product_destination_id", "PRODUCT_DESTINATION_NOT_FOUND", "no such conversion action")
		case d.OperatingAccount != nil:
			switch cfg.actionProblem(d.OperatingAccount.AccountID, d.ProductDestinationID) {
			case "missing", "disabled":
				v.add(path+".product_destination_id", "INVALID_CONVERSION_ACTION_ID", "the operating account has no enabled conversion action with this id")
			case "type":
				v.add(path+".product_destination_id", "INVALID_CONVERSION_ACTION_TYPE", "the conversion action is not of a type that takes imported conversions")
			}
			if cfg.termsNotAccepted(d.OperatingAccount.AccountID) {
				v.add(path+".operating_account", "TERMS_AND_CONDITIONS_NOT_SIGNED", "the account has not accepted the customer data terms")
			}
		}
		if len(ds) > 1 {
			switch {
			case d.Reference == "":
				v.add(path+".reference", "REQUIRED_FIELD_MISSING", "a reference is required when there are several destinations")
			case slices.Contains(refs, d.Reference):
				v.add(path+".reference", "DUPLICATE_DESTINATION_REFERENCE", "reference used by another destination")
			}
		}
		refs = append(refs, d.Reference)
	}
	return refs
}

func validateAccount(v *violations, path string, a *dmAccount) {
	if a.AccountType != "GOOGLE_ADS" {
		v.add(path+".account_type", "INVALID_ACCOUNT_TYPE", "account type %q is not GOOGLE_ADS", a.AccountType)
	}
	if !digitsPattern.MatchString(a.AccountID) {
		v.add(path+".account_id", "INVALID_ACCOUNT_ID", "the account id must be digits only, without dashes")
	}
}

func validateConsent(v *violations, path string, c *dmConsent) {
	if c == nil {
		return
	}
	if c.AdUserData != "" && !slices.Contains(dmConsents, c.AdUserData) {
		v.add(path+".ad_user_data", "INVALID_ENUM_VALUE", "unknown consent status %q", c.AdUserData)
	}
	if c.AdPersonalization != "" && !slices.Contains(dmConsents, c.AdPersonalization) {
		v.add(path+".ad_personalization", "INVALID_ENUM_VALUE", "unknown consent status %q", c.AdPersonalization)
	}
}

func validateEvent(v *violations, path string, e *dmEvent, encoding string, refs []string, now time.Time) {
	validateTimestamp(v, path+".event_timestamp", e.EventTimestamp, true, now)
	validateTimestamp(v, path+".last_updated_timestamp", e.LastUpdatedTimestamp, false, now)
	if e.CallInfo != nil {
		validateTimestamp(v, path+".call_info.start_timestamp", e.CallInfo.StartTimestamp, true, now)
	}
	for i, r := range e.DestinationReferences {
		if !slices.Contains(refs, r) {
			v.add(fmt.Sprintf("%s.destination_references[%d]", path, i), "DESTINATION_REFERENCE_NOT_FOUND", "no destination has this reference")
		}
	}
	if len(e.TransactionID) > dmMaxTransactionID {
		v.add(path+".transaction_id", "TRANSACTION_ID_TOO_LONG", "at most %d characters", dmMaxTransactionID)
	}
	if e.Currency != "" && !currencyPattern.MatchString(e.Currency) {
		v.add(path+".currency", "INVALID_CURRENCY_CODE", "must be an ISO 4217 code such as AUD")
	}
	if cv := e.ConversionValue; cv != nil && (*cv < 0 || math.IsNaN(*cv) || math.IsInf(*cv, 0)) {
		v.add(path+".conversion_value", "INVALID_CONVERSION_VALUE", "must be a number not below 0")
	}
	if e.EventSource != "" && !slices.Contains(dmEventSources, e.EventSource) {
		v.add(path+".event_source", "INVALID_ENUM_VALUE", "unknown event source %q", e.EventSource)
	}
	validateConsent(v, path+".consent", e.Consent)

	ids := 0
	if a := e.AdIdentifiers; a != nil {
		for _, c := range []struct{ name, val string }{{"gclid", a.Gclid}, {"gbraid", a.Gbraid}, {"wbraid", a.Wbraid}} {
			if c.val == "" {
				continue
			}
			ids++
			if !clickIDPattern.MatchString(c.val) {
				v.add(path+".ad_identifiers."+c.name, "INVALID_"+strings.ToUpper(c.name), "not a valid click id")
			}
		}
		if a.Gbraid != "" && a.Wbraid != "" {
			v.add(path+".ad_identifiers", "GBRAID_WBRAID_BOTH_SET", "give gbraid or wbraid, not both")
		}
	}
	if u := e.UserData; u != nil {
		if len(u.UserIdentifiers) > dmMaxUserIdentifiers {
			v.add(path+".user_data.user_identifiers", "TOO_MANY_USER_IDENTIFIERS", "at most %d", dmMaxUserIdentifiers)
		}
		for i, id := range u.UserIdentifiers {
			validateUserIdentifier(v, fmt.Sprintf("%s.user_data.user_identifiers[%d]", path, i), id, encoding)
			ids++
		}
	}
	if ids == 0 {
		v.add(path, "MISSING_IDENTIFIER", "an event needs an ad identifier (gclid, gbraid, wbraid) or user data")
	}
}

func validateUserIdentifier(v *violations, path string, id dmUserIdentifier, encoding string) {
	set := 0
	for _, c := range []struct{ name, val string }{{"email_address", id.EmailAddress}, {"phone_number", id.PhoneNumber}} {
		if c.val == "" {
			continue
		}
		set++
		switch encoding {
		case "HEX":
			if !sha256Hex.MatchString(c.val) {
				v.add(path+"."+c.name, "INVALID_HEX_ENCODING", "must be a SHA-256 hash as 64 lowercase hex digits")
			}
		case "BASE64":
			if b, err := base64.StdEncoding.DecodeString(c.val); err != nil || len(b) != 32 {
				v.add(path+"."+c.name, "INVALID_BASE64_ENCODING", "must be a base64-encoded SHA-256 hash")
			}
		}
	}
	if set != 1 {
		v.add(path, "INVALID_USER_IDENTIFIER", "a user identifier holds exactly one of email_address, phone_number")
	}
}

// validateTimestamp checks an RFC 3339 timestamp, required or not.
func validateTimestamp(v *violations, path, ts string, required bool, now time.Time) {
	if ts == "" {
		if required {
			v.add(path, "REQUIRED_FIELD_MISSING", "a timestamp is required")
		}
		return
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		v.add(path, "INVALID_TIMESTAMP", "not an RFC 3339 timestamp such as 2026-11-03T10:00:00Z")
		return
	}
	if t.After(now.Add(dmFutureSkew)) {
		v.add(path, "TIMESTAMP_IN_FUTURE", "the timestamp is in the future")
	}
}
