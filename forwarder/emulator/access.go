package emulator

import (
	"net/http"
	"slices"
)

// importTypes are the conversion action types that take imported
// conversions.
var importTypes = []string{"UPLOAD_CLICKS", "UPLOAD_CALLS"}

// reaches reports whether the signed-in user reaches customer, through
// the manager login when it is not "".
func (c AdsConfig) reaches(customer, login string) bool {
	if len(c.Customers) == 0 {
		return true
	}
	cu, ok := c.Customers[customer]
	switch {
	case !ok:
		return false
	case login == "" || login == customer:
		return cu.Direct
	}
	return slices.Contains(cu.Managers, login)
}

// actionProblem says why customer's conversion action id cannot take
// imports: "missing" (no such action, or removed), "type" (not an import
// type) or "disabled"; "" when it can.
func (c AdsConfig) actionProblem(customer, id string) string {
	if len(c.KnownActions) > 0 && !slices.Contains(c.KnownActions, id) {
		return "missing"
	}
	cu, ok := c.Customers[customer]
	if !ok || len(cu.ConversionActions) == 0 {
		return ""
	}
	i := slices.IndexFunc(cu.ConversionActions, func(a ConversionAction) bool { return a.ID == id })
	switch {
	case i < 0 || cu.ConversionActions[i].Status == "REMOVED":
		return "missing"
	case !slices.Contains(importTypes, cu.ConversionActions[i].Type):
		return "type"
	case cu.ConversionActions[i].Status != "ENABLED":
		return "disabled"
	}
	return ""
}

// termsNotAccepted reports whether customer has not accepted the customer
// data terms.
func (c AdsConfig) termsNotAccepted(customer string) bool {
	return c.Customers[customer].TermsNotAccepted
}

// checkDeveloperToken answers the Google Ads API's refusal of a request
// without an accepted developer token (when AdsConfig.DeveloperTokens is
// set) and returns false.
func (s *Server) checkDeveloperToken(w http.ResponseWriter, r *http.Request, c adsCallCtx, cfg AdsConfig) bool {
	if len(cfg.DeveloperTokens) == 0 {
		return true
	}
	tok := r.Header.Get("developer-token")
	switch {
	case tok == "":
		s.adsStatusError(w, c, http.StatusUnauthorized, "UNAUTHENTICATED", "authenticationError", "DEVELOPER_TOKEN_PARAMETER_MISSING",
			"The developer token is not on the request.")
	case !slices.Contains(cfg.DeveloperTokens, tok):
		s.adsStatusError(w, c, http.StatusUnauthorized, "UNAUTHENTICATED", "authenticationError", "DEVELOPER_TOKEN_INVALID",
			"The developer token is not valid.")
	default:
		return true
	}
	return false
}

// checkCustomerAccess answers the Google Ads API's refusal of a request
// for a customer the user does not reach through the login customer id,
// and returns false.
func (s *Server) checkCustomerAccess(w http.ResponseWriter, c adsCallCtx, cfg AdsConfig) bool {
	if cfg.reaches(c.customer, c.login) {
		return true
	}
	s.adsStatusError(w, c, http.StatusForbidden, "PERMISSION_DENIED", "authorizationError", "USER_PERMISSION_DENIED",
		"User doesn't have permission to access customer. Note: If you're accessing a client customer, the manager's customer id must be set in the 'login-customer-id' header.")
	return false
}

// adsStatusError answers a Google Ads failure of the whole request.
func (s *Server) adsStatusError(w http.ResponseWriter, c adsCallCtx, code int, status, family, value, msg string) {
	writeGoogleError(w, code, status, msg, adsFailure{
		Type:      adsFailureType(c.version),
		Errors:    []adsError{{ErrorCode: map[string]string{family: value}, Message: msg}},
		RequestID: c.requestID,
	})
}
