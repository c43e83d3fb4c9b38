package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Limits and patterns of the Google Ads API conversion uploads.
const adsMaxConversions = 2000

var (
	adsVersionPattern  = regexp.MustCompile(`^v[0-9]{1,3}$`)
	customerIDDigits   = regexp.MustCompile(`^[0-9]{10}$`)
	adsDateTimePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?[+-][0-9]{2}:[0-9]{2}$`)
)

// adsDateTimeLayout is the Google Ads date-time: "yyyy-mm-dd hh:mm:ss+|-hh:mm".
const adsDateTimeLayout = "2006-01-02 15:04:05.999999-07:00"

// AdsClickConversion is a click conversion uploadClickConversions accepted.
type AdsClickConversion struct {
	CustomerID       string   `json:"customer_id"`
	LoginCustomerID  string   `json:"login_customer_id,omitempty"`
	ConversionAction string   `json:"conversion_action"` // the action id
	GCLID            string   `json:"gclid,omitempty"`
	HashedPhones     []string `json:"hashed_phones,omitempty"`
	HashedEmails     []string `json:"hashed_emails,omitempty"`
	// ConversionDateTime is as sent ("yyyy-mm-dd hh:mm:ss+hh:mm").
	ConversionDateTime string    `json:"conversion_date_time"`
	Value              *float64  `json:"value,omitempty"`
	Currency           string    `json:"currency,omitempty"`
	OrderID            string    `json:"order_id,omitempty"`
	AdUserData         string    `json:"ad_user_data,omitempty"`
	ReceivedAt         time.Time `json:"received_at"`
}

// AdsCallConversion is a call conversion uploadCallConversions accepted.
type AdsCallConversion struct {
	CustomerID         string    `json:"customer_id"`
	LoginCustomerID    string    `json:"login_customer_id,omitempty"`
	ConversionAction   string    `json:"conversion_action"` // the action id
	CallerID           string    `json:"caller_id"`
	CallStartDateTime  string    `json:"call_start_date_time"`
	ConversionDateTime string    `json:"conversion_date_time"`
	Value              *float64  `json:"value,omitempty"`
	Currency           string    `json:"currency,omitempty"`
	AdUserData         string    `json:"ad_user_data,omitempty"`
	ReceivedAt         time.Time `json:"received_at"`
}

// AdsClickConversions returns, in arrival order, the click conversions
// the Google Ads API accepted.
func (s *Server) AdsClickConversions() []AdsClickConversion {
	s.google.mu.Lock()
	defer s.google.mu.Unlock()
	return slices.Clone(s.google.clicks)
}

// AdsCallConversions returns, in arrival order, the call conversions the
// Google Ads API accepted.
func (s *Server) AdsCallConversions() []AdsCallConversion {
	s.google.mu.Lock()
	defer s.google.mu.Unlock()
	return slices.Clone(s.google.calls)
}

func (s *Server) routeAds(mux *http.ServeMux) {
	// The last segment is "{customerId}:{method}".
	mux.HandleFunc("POST /{version}/customers/{call}", s.withFaults(s.adsUpload))
}

// The JSON of the upload requests: any other field is refused.
type (
	adsClickRequest struct {
		Conversions    []adsClick `json:"conversions"`
		PartialFailure bool       `json:"partialFailure"`
		ValidateOnly   bool       `json:"validateOnly"`
		JobID          *int64     `json:"jobId"`
	}
	adsClick struct {
		Gclid              string              `json:"gclid"`
		Gbraid             string              `json:"gbraid"`
		Wbraid             string              `json:"wbraid"`
		ConversionAction   string              `json:"conversionAction"`
		ConversionDateTime string              `json:"conversionDateTime"`
		ConversionValue    *float64            `json:"conversionValue"`
		CurrencyCode       string              `json:"currencyCode"`
		OrderID            string              `json:"orderId"`
		UserIdentifiers    []adsUserIdentifier `json:"userIdentifiers"`
		Consent            *adsConsent         `json:"consent"`
	}
	adsUserIdentifier struct {
		HashedEmail          string `json:"hashedEmail"`
		HashedPhoneNumber    string `json:"hashedPhoneNumber"`
		UserIdentifierSource string `json:"userIdentifierSource"`
	}
	adsConsent struct {
		AdUserData        string `json:"adUserData"`
		AdPersonalization string `json:"adPersonalization"`
	}
	adsCallRequest struct {
		Conversions    []adsCall `json:"conversions"`
		PartialFailure bool      `json:"partialFailure"`
		ValidateOnly   bool      `json:"validateOnly"`
	}
	adsCall struct {
		CallerID           string      `json:"callerId"`
		CallStartDateTime  string      `json:"callStartDateTime"`
		ConversionAction   string      `json:"conversionAction"`
		ConversionDateTime string      `json:"conversionDateTime"`
		ConversionValue    *float64    `json:"conversionValue"`
		CurrencyCode       string      `json:"currencyCode"`
		Consent            *adsConsent `json:"consent"`
	}
)

// The JSON of the answers.
type (
	adsUploadReply struct {
		PartialFailureError *adsStatus       `json:"partialFailureError,omitempty"`
		Results             []map[string]any `json:"results,omitempty"`
		JobID               string           `json:"jobId,omitempty"`
	}
	adsStatus struct {
		Code    int          `json:"code"`
		Message string       `json:"message"`
		Details []adsFailure `json:"details"`
	}
	adsFailure struct {
		Type      string     `json:"@type"`
		Errors    []adsError `json:"errors"`
		RequestID string     `json:"requestId"`
	}
	adsError struct {
		ErrorCode map[string]string `json:"errorCode"`
		Message   string            `json:"message"`
		Location  *adsLocation      `json:"location,omitempty"`
	}
	adsLocation struct {
		FieldPathElements []adsPathElement `json:"fieldPathElements"`
	}
	adsPathElement struct {
		FieldName string `json:"fieldName"`
		Index     *int   `json:"index,omitempty"`
	}
)

// adsCallCtx is what one upload request is about.
type adsCallCtx struct {
	version, customer, login, requestID string
}

// adsUpload serves uploadClickConversions and uploadCallConversions.
func (s *Server) adsUpload(w http.ResponseWriter, r *http.Request) {
	version := r.PathValue("version")
	customer, method, ok := strings.Cut(r.PathValue("call"), ":")
	endpoint := map[string]string{
		"uploadClickConversions": EndpointUploadClicks,
		"uploadCallConversions":  EndpointUploadCalls,
	}[method]
	if !ok || endpoint == "" || !adsVersionPattern.MatchString(version) {
		writeGoogleError(w, http.StatusNotFound, "NOT_FOUND", "The requested URL was not found on this server.")
		return
	}
	s.google.count(endpoint)
	c := adsCallCtx{version: version, customer: customer, login: r.Header.Get("login-customer-id")}
	if !s.authorize(w, r, scopeAdWords, "googleads.googleapis.com") {
		return
	}
	s.google.mu.Lock()
	c.requestID = fmt.Sprintf("emulated-ads-%d", s.google.requests[endpoint])
	s.google.mu.Unlock()
	if !s.checkAdsCustomer(w, r, c) {
		return
	}
	body, ok := readGoogleBody(w, r)
	if !ok {
		return
	}
	if endpoint == EndpointUploadClicks {
		var req adsClickRequest
		if !s.decodeAds(w, c, body, &req) || !s.checkAdsRequest(w, c, req.PartialFailure, len(req.Conversions)) {
			return
		}
		s.writeAdsReply(w, r, c, s.uploadClicks(c, &req), req.ValidateOnly, true)
		return
	}
	var req adsCallRequest
	if !s.decodeAds(w, c, body, &req) || !s.checkAdsRequest(w, c, req.PartialFailure, len(req.Conversions)) {
		return
	}
	s.writeAdsReply(w, r, c, s.uploadCalls(c, &req), req.ValidateOnly, false)
}

// checkAdsCustomer applies the checks of every Google Ads API request
// after the access token's: the developer token, the customer and login
// customer ids and the user's access to the customer. It answers the
// refusal and returns false when one fails.
func (s *Server) checkAdsCustomer(w http.ResponseWriter, r *http.Request, c adsCallCtx) bool {
	cfg := s.google.config()
	switch {
	case !s.checkDeveloperToken(w, r, c, cfg):
		return false
	case !customerIDDigits.MatchString(c.customer):
		s.adsRequestError(w, c, http.StatusBadRequest, "requestError", "INVALID_CUSTOMER_ID", "Customer id must be 10 digits without dashes.")
		return false
	case c.login != "" && !customerIDDigits.MatchString(c.login):
		s.adsRequestError(w, c, http.StatusBadRequest, "headerError", "INVALID_LOGIN_CUSTOMER_ID", "The login customer id header must be 10 digits without dashes.")
		return false
	}
	return s.checkCustomerAccess(w, c, cfg)
}

// decodeAds decodes body strictly into v, answering 400 when it cannot.
func (s *Server) decodeAds(w http.ResponseWriter, c adsCallCtx, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid JSON payload received. "+err.Error())
		return false
	}
	return true
}

// checkAdsRequest applies the request-wide rules.
func (s *Server) checkAdsRequest(w http.ResponseWriter, c adsCallCtx, partialFailure bool, n int) bool {
	switch {
	case !partialFailure:
		s.adsRequestError(w, c, http.StatusBadRequest, "partialFailureError", "PARTIAL_FAILURE_MODE_REQUIRED", "The partial failure field must be set to true.")
	case n == 0:
		s.adsRequestError(w, c, http.StatusBadRequest, "fieldError", "REQUIRED", "The required field was not present.")
	case n > adsMaxConversions:
		s.adsRequestError(w, c, http.StatusBadRequest, "conversionUploadError", "TOO_MANY_CONVERSIONS_IN_REQUEST",
			fmt.Sprintf("The request has %d conversions; at most %d are allowed.", n, adsMaxConversions))
	default:
		return true
	}
	return false
}

// adsRequestError answers a request-level Google Ads failure.
func (s *Server) adsRequestError(w http.ResponseWriter, c adsCallCtx, code int, family, value, msg string) {
	writeGoogleError(w, code, "INVALID_ARGUMENT", "Request contains an invalid argument.", adsFailure{
		Type:      adsFailureType(c.version),
		Errors:    []adsError{{ErrorCode: map[string]string{family: value}, Message: msg}},
		RequestID: c.requestID,
	})
}

func adsFailureType(version string) string {
	return "type.googleapis.com/google.ads.googleads." + version + ".errors.GoogleAdsFailure"
}

// rowOutcome is the outcome of one conversion: a result, or errors.
type rowOutcome struct {
	result map[string]any
	errors []adsError
}

// writeAdsReply answers 200 with a result per row (empty for failed rows,
// none at all with validateOnly) and the row errors as a partial failure.
func (s *Server) writeAdsReply(w http.ResponseWriter, r *http.Request, c adsCallCtx, rows []rowOutcome, validateOnly, withJob bool) {
	var reply adsUploadReply
	var errs []adsError
	failed := 0
	for _, o := range rows {
		if len(o.errors) > 0 {
			failed++
			errs = append(errs, o.errors...)
		}
		if !validateOnly {
			res := o.result
			if len(o.errors) > 0 || res == nil {
				res = map[string]any{}
			}
			reply.Results = append(reply.Results, res)
		}
	}
	if len(errs) > 0 {
		reply.PartialFailureError = &adsStatus{
			Code:    3,
			Message: errs[0].Message + ", at conversions[" + fmt.Sprint(*errs[0].Location.FieldPathElements[0].Index) + "]",
			Details: []adsFailure{{Type: adsFailureType(c.version), Errors: errs, RequestID: c.requestID}},
		}
	}
	if withJob {
		reply.JobID = "2147483648"
	}
	s.log.DebugContext(r.Context(), "emulator: ads upload", "rows", len(rows), "failed", failed, "validate_only", validateOnly)
	w.Header().Set("request-id", c.requestID)
	writeJSON(w, http.StatusOK, reply)
}

// rowError is a row error located at conversions[i] (and a field in it).
func rowError(i int, field, family, value, msg string) adsError {
	idx := i
	loc := &adsLocation{FieldPathElements: []adsPathElement{{FieldName: "conversions", Index: &idx}}}
	if field != "" {
		loc.FieldPathElements = append(loc.FieldPathElements, adsPathElement{FieldName: field})
	}
	return adsError{ErrorCode: map[string]string{family: value}, Message: msg, Location: loc}
}
