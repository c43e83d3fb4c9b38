package emulator

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Names of the emulated Google Ads endpoints, as counted by
// [Server.Requests].
const (
	EndpointToken        = "oauth_token"
	EndpointIngestEvents = "datamanager_ingest"
	EndpointUploadClicks = "ads_upload_click_conversions"
	EndpointUploadCalls  = "ads_upload_call_conversions"
)

// OAuth scopes the emulated APIs require.
const (
	scopeDataManager = "https://www.googleapis.com/auth/datamanager"
	scopeAdWords     = "https://www.googleapis.com/auth/adwords"
)

// defaultTokenLifetime is the expires_in of the access tokens the
// emulator issues when AdsConfig.TokenLifetimeSeconds is 0.
const defaultTokenLifetime = time.Hour

// maxGoogleBody bounds a Data Manager or Google Ads request body: 2,000
// rows fit several times over.
const maxGoogleBody = 8 << 20

// AdsConfig steers the emulated OAuth, Data Manager and Google Ads
// endpoints: what exists on the Google side and which answers to give.
// The zero value accepts any conversion action, any well-formed GCLID and
// any refresh token.
type AdsConfig struct {
	// KnownActions are the conversion action ids that exist; when empty,
	// every id exists.
	KnownActions []string `json:"known_actions,omitempty"`
	// ExpiredGCLIDs are clicks past their conversion window (EXPIRED_EVENT).
	ExpiredGCLIDs []string `json:"expired_gclids,omitempty"`
	// TooRecentGCLIDs are clicks less than 6 hours old (TOO_RECENT_EVENT).
	TooRecentGCLIDs []string `json:"too_recent_gclids,omitempty"`
	// TooRecentCallers are caller ids whose calls Google has not processed
	// yet (TOO_RECENT_CALL).
	TooRecentCallers []string `json:"too_recent_callers,omitempty"`
	// NotAllowlistedCustomers are the customers whose click uploads the
	// Google Ads API refuses (CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE).
	NotAllowlistedCustomers []string `json:"not_allowlisted_customers,omitempty"`
	// RevokedRefreshTokens are refresh tokens (or service-account
	// client_email values) the token endpoint refuses with invalid_grant.
	RevokedRefreshTokens []string `json:"revoked_refresh_tokens,omitempty"`
	// RefreshTokenScopes limits the scopes a refresh token grants; a
	// refresh token not listed grants the Data Manager and AdWords scopes.
	RefreshTokenScopes map[string][]string `json:"refresh_token_scopes,omitempty"`
	// TokenLifetimeSeconds is the expires_in of issued access tokens
	// (3600 when 0).
	TokenLifetimeSeconds int `json:"token_lifetime_seconds,omitempty"`
	// OAuthClients are the OAuth clients that exist, client id to client
	// secret; when empty, any client id and secret are accepted.
	OAuthClients map[string]string `json:"oauth_clients,omitempty"`
	// DenyConsent makes the consent screen answer as if the user clicked
	// Cancel (error=access_denied).
	DenyConsent bool `json:"deny_consent,omitempty"`
	// ConsentScopes, when set, are the only scopes the user grants on the
	// consent screen, of those asked (Google's granular consent).
	ConsentScopes []string `json:"consent_scopes,omitempty"`
	// Customers are the Google Ads accounts the signed-in user (or service
	// account) can reach, by customer id (10 digits); when empty, every
	// account is reachable, directly or through any manager, and has every
	// conversion action (within KnownActions).
	Customers map[string]AdsCustomer `json:"customers,omitempty"`
	// DeveloperTokens, when set, are the developer tokens the Google Ads
	// API accepts: a request without one of them is refused.
	DeveloperTokens []string `json:"developer_tokens,omitempty"`
	// Processing steers the processing reports of requestStatus:retrieve.
	Processing ProcessingConfig `json:"processing,omitzero"`
}

// AdsCustomer is a Google Ads account as the emulator knows it.
type AdsCustomer struct {
	// Direct: the user has access to the account itself, so no login
	// customer id is needed (giving its own id as one works too).
	Direct bool `json:"direct,omitempty"`
	// Managers are the manager accounts through which the user reaches
	// the account: each works as login customer id.
	Managers []string `json:"managers,omitempty"`
	// ConversionActions are the account's conversion actions; when empty
	// it has every action (within KnownActions). Only enabled actions of
	// an import type take conversions.
	ConversionActions []ConversionAction `json:"conversion_actions,omitempty"`
	// TermsNotAccepted: the account has not accepted the customer data
	// terms, so the Data Manager API refuses its conversions.
	TermsNotAccepted bool `json:"terms_not_accepted,omitempty"`
}

// ConversionAction is a conversion action of an AdsCustomer.
type ConversionAction struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Type is Google's ConversionActionType: UPLOAD_CLICKS and
	// UPLOAD_CALLS take imports; WEBPAGE, PHONE_CALL_FROM_ADS, ... do not.
	Type string `json:"type"`
	// Status is ENABLED, REMOVED or HIDDEN.
	Status string `json:"status"`
}

// lifetime returns how long an issued access token lives.
func (c AdsConfig) lifetime() time.Duration {
	if c.TokenLifetimeSeconds > 0 {
		return time.Duration(c.TokenLifetimeSeconds) * time.Second
	}
	return defaultTokenLifetime
}

// clone returns a deep copy of c.
func (c AdsConfig) clone() AdsConfig {
	out := c
	out.KnownActions = slices.Clone(c.KnownActions)
	out.ExpiredGCLIDs = slices.Clone(c.ExpiredGCLIDs)
	out.TooRecentGCLIDs = slices.Clone(c.TooRecentGCLIDs)
	out.TooRecentCallers = slices.Clone(c.TooRecentCallers)
	out.NotAllowlistedCustomers = slices.Clone(c.NotAllowlistedCustomers)
	out.RevokedRefreshTokens = slices.Clone(c.RevokedRefreshTokens)
	out.OAuthClients = maps.Clone(c.OAuthClients)
	out.ConsentScopes = slices.Clone(c.ConsentScopes)
	out.DeveloperTokens = slices.Clone(c.DeveloperTokens)
	if c.Customers != nil {
		out.Customers = make(map[string]AdsCustomer, len(c.Customers))
		for id, cu := range c.Customers {
			cu.Managers = slices.Clone(cu.Managers)
			cu.ConversionActions = slices.Clone(cu.ConversionActions)
			out.Customers[id] = cu
		}
	}
	out.Processing = c.Processing.clone()
	if c.RefreshTokenScopes != nil {
		out.RefreshTokenScopes = make(map[string][]string, len(c.RefreshTokenScopes))
		for k, v := range c.RefreshTokenScopes {
			out.RefreshTokenScopes[k] = slices.Clone(v)
		}
	}
	return out
}

// googleState is what the OAuth, Data Manager and Google Ads endpoints
// keep. Its mutex is separate from the GA4 recording's.
type googleState struct {
	mu       sync.Mutex
	cfg      AdsConfig
	tokens   map[string]accessToken
	issued   int
	codes    map[string]authCode
	refresh  map[string]issuedRefresh
	requests map[string]int

	dmEvents     []DataManagerEvent
	dmSeen       map[string]bool
	dmDuplicates int
	// dmIngested is kept per request id for requestStatus:retrieve.
	dmIngested map[string]*dmIngested
	// dmRequestSeq numbers the request ids events:ingest answers.
	dmRequestSeq int

	clicks    []AdsClickConversion
	calls     []AdsCallConversion
	clickSeen map[string]bool
	orderSeen map[string]bool
	callSeen  map[string]bool
}

func newGoogleState(cfg AdsConfig) *googleState {
	return &googleState{
		cfg:       cfg.clone(),
		tokens:    map[string]accessToken{},
		codes:     map[string]authCode{},
		refresh:   map[string]issuedRefresh{},
		requests:  map[string]int{},
		dmSeen:    map[string]bool{},
		clickSeen: map[string]bool{},
		orderSeen: map[string]bool{},
		callSeen:  map[string]bool{},
	}
}

// count records one request that reached the handler of endpoint.
func (g *googleState) count(endpoint string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests[endpoint]++
}

// config returns a copy of the configuration in force.
func (g *googleState) config() AdsConfig {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cfg.clone()
}

// resetGoogle forgets every token and recording and restores the
// AdsConfig given to New.
func (s *Server) resetGoogle() {
	fresh := newGoogleState(s.opts.Ads)
	g := s.google
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cfg, g.tokens, g.issued, g.requests = fresh.cfg, fresh.tokens, 0, fresh.requests
	g.codes, g.refresh = fresh.codes, fresh.refresh
	g.dmEvents, g.dmSeen, g.dmDuplicates, g.dmIngested = nil, fresh.dmSeen, 0, nil
	g.clicks, g.calls = nil, nil
	g.clickSeen, g.orderSeen, g.callSeen = fresh.clickSeen, fresh.orderSeen, fresh.callSeen
}

// SetAdsConfig replaces the Google Ads side configuration from the next
// request on. Tokens already issued stay valid.
func (s *Server) SetAdsConfig(c AdsConfig) {
	s.google.mu.Lock()
	defer s.google.mu.Unlock()
	s.google.cfg = c.clone()
}

// AdsConfig returns the Google Ads side configuration in force.
func (s *Server) AdsConfig() AdsConfig { return s.google.config() }

// Requests returns how many requests reached the handler of endpoint
// (one of the Endpoint constants): requests a fault answered are not
// counted.
func (s *Server) Requests(endpoint string) int {
	s.google.mu.Lock()
	defer s.google.mu.Unlock()
	return s.google.requests[endpoint]
}

// TokensIssued returns how many access tokens the token endpoint issued.
func (s *Server) TokensIssued() int {
	s.google.mu.Lock()
	defer s.google.mu.Unlock()
	return s.google.issued
}

// AdsRecording is the answer of GET /emulator/ads/recording.
type AdsRecording struct {
	DataManagerEvents     []DataManagerEvent   `json:"data_manager_events"`
	DataManagerDuplicates int                  `json:"data_manager_duplicates"`
	ClickConversions      []AdsClickConversion `json:"click_conversions"`
	CallConversions       []AdsCallConversion  `json:"call_conversions"`
	Requests              map[string]int       `json:"requests"`
	TokensIssued          int                  `json:"tokens_issued"`
}

// Recording returns everything the Google Ads side kept, in arrival order.
func (s *Server) Recording() AdsRecording {
	g := s.google
	g.mu.Lock()
	defer g.mu.Unlock()
	rec := AdsRecording{
		DataManagerEvents:     slices.Clone(g.dmEvents),
		DataManagerDuplicates: g.dmDuplicates,
		ClickConversions:      slices.Clone(g.clicks),
		CallConversions:       slices.Clone(g.calls),
		Requests:              maps.Clone(g.requests),
		TokensIssued:          g.issued,
	}
	if rec.DataManagerEvents == nil {
		rec.DataManagerEvents = []DataManagerEvent{}
	}
	if rec.ClickConversions == nil {
		rec.ClickConversions = []AdsClickConversion{}
	}
	if rec.CallConversions == nil {
		rec.CallConversions = []AdsCallConversion{}
	}
	return rec
}

func (s *Server) routeAdsControl(mux *http.ServeMux) {
	mux.HandleFunc("GET /emulator/ads/recording", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Recording())
	})
	mux.HandleFunc("GET /emulator/ads/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.AdsConfig())
	})
	mux.HandleFunc("PUT /emulator/ads/config", s.controlPutAdsConfig)
}

// controlPutAdsConfig replaces the AdsConfig and answers it back.
func (s *Server) controlPutAdsConfig(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorReply{err.Error()})
		return
	}
	var c AdsConfig
	if err := json.Unmarshal(b, &c); err != nil {
		writeJSON(w, http.StatusBadRequest, errorReply{err.Error()})
		return
	}
	if c.TokenLifetimeSeconds < 0 {
		writeJSON(w, http.StatusBadRequest, errorReply{"token_lifetime_seconds must not be negative"})
		return
	}
	s.SetAdsConfig(c)
	writeJSON(w, http.StatusOK, c)
}

// googleError is the body of a request Google refuses as a whole.
type googleError struct {
	Error googleStatus `json:"error"`
}

// googleStatus is a google.rpc.Status as REST APIs write it.
type googleStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
	Details []any  `json:"details,omitempty"`
}

// errorInfo is a google.rpc.ErrorInfo detail.
type errorInfo struct {
	Type   string `json:"@type"`
	Reason string `json:"reason"`
	Domain string `json:"domain"`
}

func newErrorInfo(reason, domain string) errorInfo {
	return errorInfo{Type: "type.googleapis.com/google.rpc.ErrorInfo", Reason: reason, Domain: domain}
}

// writeGoogleError answers a Google-style error.
func writeGoogleError(w http.ResponseWriter, code int, status, msg string, details ...any) {
	writeJSON(w, code, googleError{googleStatus{Code: code, Message: msg, Status: status, Details: details}})
}

// readGoogleBody reads a request body within maxGoogleBody; it answers
// 400 or 413 and returns false otherwise.
func readGoogleBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxGoogleBody+1))
	if err != nil {
		writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "cannot read the request body")
		return nil, false
	}
	if len(body) > maxGoogleBody {
		writeGoogleError(w, http.StatusRequestEntityTooLarge, "INVALID_ARGUMENT", "the request body is too large")
		return nil, false
	}
	return body, true
}
