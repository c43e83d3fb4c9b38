package emulator

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"
)

// adsMaxUserIdentifiers is the most user identifiers a click conversion
// may carry.
const adsMaxUserIdentifiers = 5

var (
	actionResourcePattern = regexp.MustCompile(`^customers/([0-9]+)/conversionActions/([0-9]{1,19})$`)
	e164Pattern           = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	adsConsentValues      = []string{"", "UNSPECIFIED", "UNKNOWN", "GRANTED", "DENIED"}
	adsIdentifierSources  = []string{"", "UNSPECIFIED", "UNKNOWN", "FIRST_PARTY", "THIRD_PARTY"}
)

// rowCheck collects the errors of conversions[i].
type rowCheck struct {
	i    int
	errs []adsError
}

func (rc *rowCheck) add(field, family, value, msg string) {
	rc.errs = append(rc.errs, rowError(rc.i, field, family, value, msg))
}

// action checks a conversion action resource name against the customer
// of the request and the known actions; it returns the action id.
func (rc *rowCheck) action(resource, customer string, cfg AdsConfig) string {
	m := actionResourcePattern.FindStringSubmatch(resource)
	switch {
	case m == nil:
		rc.add("conversion_action", "requestError", "RESOURCE_NAME_MALFORMED", "The resource name is malformed; want customers/{customer_id}/conversionActions/{id}.")
		return ""
	case m[1] != customer:
		rc.add("conversion_action", "conversionUploadError", "NO_CONVERSION_ACTION_FOUND", "The conversion action does not belong to this customer.")
	default:
		switch cfg.actionProblem(customer, m[2]) {
		case "missing", "disabled":
			rc.add("conversion_action", "conversionUploadError", "NO_CONVERSION_ACTION_FOUND", "The conversion action cannot be found, or it is not enabled.")
		case "type":
			rc.add("conversion_action", "conversionUploadError", "INVALID_CONVERSION_ACTION_TYPE", "The conversion action is not of a type that takes uploaded conversions.")
		}
	}
	return m[2]
}

// dateTime parses a Google Ads date-time, which must carry its offset.
func (rc *rowCheck) dateTime(field, s string, now time.Time) (time.Time, bool) {
	if !adsDateTimePattern.MatchString(s) {
		rc.add(field, "dateError", "INVALID_STRING_DATE_TIME_SECONDS_WITH_OFFSET", "The string date time must be in the format yyyy-mm-dd hh:mm:ss+|-hh:mm.")
		return time.Time{}, false
	}
	t, err := time.Parse(adsDateTimeLayout, s)
	if err != nil {
		rc.add(field, "dateError", "INVALID_FIELD_VALUES_IN_DATE_TIME", "The date time has invalid field values.")
		return time.Time{}, false
	}
	if t.After(now.Add(dmFutureSkew)) {
		rc.add(field, "dateError", "LATER_THAN_MAXIMUM_DATE", "The date time is in the future.")
		return t, false
	}
	return t, true
}

// valueAndConsent checks the value, currency and consent of a row.
func (rc *rowCheck) valueAndConsent(value *float64, currency string, consent *adsConsent) {
	if value != nil && (*value < 0 || math.IsNaN(*value) || math.IsInf(*value, 0)) {
		rc.add("conversion_value", "fieldError", "INVALID_VALUE", "The conversion value must not be negative.")
	}
	if currency != "" && !currencyPattern.MatchString(currency) {
		rc.add("currency_code", "currencyCodeError", "UNSUPPORTED", "The currency code is not supported.")
	}
	if consent != nil {
		if !slices.Contains(adsConsentValues, consent.AdUserData) {
			rc.add("consent", "fieldError", "INVALID_VALUE", "Unknown consent status.")
		}
		if consent.AdPersonalization != "" {
			rc.add("consent", "fieldError", "VALUE_MUST_BE_UNSET", "ad_personalization cannot be set on conversion uploads.")
		}
	}
}

func adUserData(c *adsConsent) string {
	if c == nil {
		return ""
	}
	return c.AdUserData
}

// uploadClicks validates every click conversion and, unless the request
// only validates, records those without error.
func (s *Server) uploadClicks(c adsCallCtx, req *adsClickRequest) []rowOutcome {
	now := s.now()
	g := s.google
	g.mu.Lock()
	defer g.mu.Unlock()
	cfg := g.cfg
	inRequest, ordersInRequest := map[string]bool{}, map[string]bool{}
	out := make([]rowOutcome, len(req.Conversions))
	for i, cv := range req.Conversions {
		rc := &rowCheck{i: i}
		actionID := rc.action(cv.ConversionAction, c.customer, cfg)
		when, whenOK := rc.dateTime("conversion_date_time", cv.ConversionDateTime, now)
		rc.valueAndConsent(cv.ConversionValue, cv.CurrencyCode, cv.Consent)
		switch {
		case cv.Gbraid != "" && cv.Wbraid != "":
			rc.add("gbraid", "conversionUploadError", "GBRAID_WBRAID_BOTH_SET", "gbraid and wbraid cannot both be set.")
		case cv.Gclid != "" && (cv.Gbraid != "" || cv.Wbraid != ""):
			rc.add("gclid", "fieldError", "VALUE_MUST_BE_UNSET", "gclid must be unset with gbraid or wbraid.")
		case cv.Gclid == "" && cv.Gbraid == "" && cv.Wbraid == "" && len(cv.UserIdentifiers) == 0:
			rc.add("gclid", "fieldError", "REQUIRED", "A click id or user identifiers are required.")
		case cv.Gclid != "" && !clickIDPattern.MatchString(cv.Gclid):
			rc.add("gclid", "conversionUploadError", "UNPARSEABLE_GCLID", "The click id could not be decoded.")
		case slices.Contains(cfg.ExpiredGCLIDs, cv.Gclid):
			rc.add("gclid", "conversionUploadError", "EXPIRED_EVENT", "The click is older than the conversion action's click-through window.")
		case slices.Contains(cfg.TooRecentGCLIDs, cv.Gclid):
			rc.add("gclid", "conversionUploadError", "TOO_RECENT_EVENT", "The click happened too recently; try again after 6 hours.")
		}
		var phones, emails []string
		if len(cv.UserIdentifiers) > adsMaxUserIdentifiers {
			rc.add("user_identifiers", "collectionSizeError", "TOO_MANY", "At most 5 user identifiers are allowed.")
		}
		for _, id := range cv.UserIdentifiers {
			valid := (id.HashedEmail == "") != (id.HashedPhoneNumber == "") &&
				sha256Hex.MatchString(id.HashedEmail+id.HashedPhoneNumber) &&
				slices.Contains(adsIdentifierSources, id.UserIdentifierSource)
			if !valid {
				rc.add("user_identifiers", "conversionUploadError", "INVALID_USER_IDENTIFIER", "A user identifier must hold one SHA-256 hash as 64 lowercase hex digits.")
				break
			}
			if id.HashedPhoneNumber != "" {
				phones = append(phones, id.HashedPhoneNumber)
			} else {
				emails = append(emails, id.HashedEmail)
			}
		}
		if slices.Contains(cfg.NotAllowlistedCustomers, c.customer) {
			rc.add("", "conversionUploadError", "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE", "The customer is not allowlisted for click conversion uploads; use the Data Manager API.")
		}
		clickKey := fmt.Sprintf("%s|%s|%s|%d", c.customer, actionID, cv.Gclid, when.Unix())
		orderKey := c.customer + "|" + actionID + "|" + cv.OrderID
		if len(rc.errs) == 0 && whenOK {
			switch {
			case cv.Gclid != "" && inRequest[clickKey]:
				rc.add("", "conversionUploadError", "DUPLICATE_CLICK_CONVERSION_IN_REQUEST", "The request has this conversion twice.")
			case cv.Gclid != "" && g.clickSeen[clickKey]:
				rc.add("", "conversionUploadError", "CLICK_CONVERSION_ALREADY_EXISTS", "A conversion for this click, action and time was already uploaded.")
			case cv.OrderID != "" && ordersInRequest[orderKey]:
				rc.add("order_id", "conversionUploadError", "DUPLICATE_ORDER_ID", "The request has this order id twice.")
			case cv.OrderID != "" && g.orderSeen[orderKey]:
				rc.add("order_id", "conversionUploadError", "ORDER_ID_ALREADY_IN_USE", "A conversion with this order id was already uploaded.")
			}
		}
		if len(rc.errs) > 0 {
			out[i] = rowOutcome{errors: rc.errs}
			continue
		}
		inRequest[clickKey], ordersInRequest[orderKey] = cv.Gclid != "", cv.OrderID != ""
		out[i] = rowOutcome{result: map[string]any{
			"gclid": cv.Gclid, "conversionAction": cv.ConversionAction, "conversionDateTime": cv.ConversionDateTime,
		}}
		if req.ValidateOnly {
			continue
		}
		if cv.Gclid != "" {
			g.clickSeen[clickKey] = true
		}
		if cv.OrderID != "" {
			g.orderSeen[orderKey] = true
		}
		g.clicks = append(g.clicks, AdsClickConversion{
			CustomerID: c.customer, LoginCustomerID: c.login, ConversionAction: actionID,
			GCLID: cv.Gclid, HashedPhones: phones, HashedEmails: emails,
			ConversionDateTime: cv.ConversionDateTime, Value: cv.ConversionValue, Currency: cv.CurrencyCode,
			OrderID: cv.OrderID, AdUserData: adUserData(cv.Consent), ReceivedAt: now,
		})
	}
	return out
}

// uploadCalls validates every call conversion and, unless the request
// only validates, records those without error.
func (s *Server) uploadCalls(c adsCallCtx, req *adsCallRequest) []rowOutcome {
	now := s.now()
	g := s.google
	g.mu.Lock()
	defer g.mu.Unlock()
	cfg := g.cfg
	inRequest := map[string]bool{}
	out := make([]rowOutcome, len(req.Conversions))
	for i, cv := range req.Conversions {
		rc := &rowCheck{i: i}
		actionID := rc.action(cv.ConversionAction, c.customer, cfg)
		start, startOK := rc.dateTime("call_start_date_time", cv.CallStartDateTime, now)
		when, whenOK := rc.dateTime("conversion_date_time", cv.ConversionDateTime, now)
		rc.valueAndConsent(cv.ConversionValue, cv.CurrencyCode, cv.Consent)
		switch {
		case !e164Pattern.MatchString(cv.CallerID):
			rc.add("caller_id", "conversionUploadError", "UNPARSEABLE_CALLERS_PHONE_NUMBER", "The caller's phone number cannot be parsed; give it in E.164 format.")
		case startOK && whenOK && when.Before(start):
			rc.add("conversion_date_time", "conversionUploadError", "CONVERSION_PRECEDES_CALL", "The conversion precedes the call.")
		case slices.Contains(cfg.TooRecentCallers, cv.CallerID):
			rc.add("", "conversionUploadError", "TOO_RECENT_CALL", "The call happened too recently; try again after 12 hours.")
		}
		key := fmt.Sprintf("%s|%s|%s|%d|%d", c.customer, actionID, cv.CallerID, start.Unix(), when.Unix())
		if len(rc.errs) == 0 {
			switch {
			case inRequest[key]:
				rc.add("", "conversionUploadError", "DUPLICATE_CALL_CONVERSION_IN_REQUEST", "The request has this conversion twice.")
			case g.callSeen[key]:
				rc.add("", "conversionUploadError", "CALL_CONVERSION_ALREADY_EXISTS", "A conversion for this call, action and time was already uploaded.")
			}
		}
		if len(rc.errs) > 0 {
			out[i] = rowOutcome{errors: rc.errs}
			continue
		}
		inRequest[key] = true
		out[i] = rowOutcome{result: map[string]any{
			"callerId": cv.CallerID, "callStartDateTime": cv.CallStartDateTime,
			"conversionAction": cv.ConversionAction, "conversionDateTime": cv.ConversionDateTime,
		}}
		if req.ValidateOnly {
			continue
		}
		g.callSeen[key] = true
		g.calls = append(g.calls, AdsCallConversion{
			CustomerID: c.customer, LoginCustomerID: c.login, ConversionAction: actionID,
			CallerID: cv.CallerID, CallStartDateTime: cv.CallStartDateTime, ConversionDateTime: cv.ConversionDateTime,
			Value: cv.ConversionValue, Currency: cv.CurrencyCode, AdUserData: adUserData(cv.Consent), ReceivedAt: now,
		})
	}
	return out
}
