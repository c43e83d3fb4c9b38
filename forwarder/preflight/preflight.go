// Package preflight checks a setup against Google before the first call:
// each GA4 stream with an event sent to the Measurement Protocol's
// validation server, each Google Ads conversion action of the rules with a
// validate-only upload through its backend (which catches a wrong customer
// id, login customer id, conversion action, missing permission or scope,
// terms not accepted), and the credentials those need. Nothing is
// recorded at Google: the validation server and validateOnly record
// nothing. Every finding names the file and the key to change.
//
// The synthetic events and conversions carry no personal data, and no
// result holds a secret or a token.
package preflight

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/ga4"
	"github.com/callforward/callforward/forwarder/googleads"
	"github.com/callforward/callforward/mapping"
)

// Status is the verdict of one check.
type Status string

// The verdicts: Fail stops `check --online` with exit 1; Warn is a
// transient failure, or a setting that may be needed.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Result is one check.
type Result struct {
	// Check names what was checked, e.g. `ga4 "website" G-HARBOUR01`.
	Check  string `json:"check"`
	Status Status `json:"status"`
	// Message says what was found, with Google's own words on a failure.
	Message string `json:"message"`
	// Fix names the file and key to change, and how, when there is
	// something to change.
	Fix string `json:"fix,omitempty"`
}

// Config is what the checks read and where they send.
type Config struct {
	Rules           *mapping.Rules
	RulesPath       string
	Creds           *credentials.File
	CredentialsPath string
	// GA4Endpoint, DataManagerEndpoint, GoogleAdsEndpoint, APIVersion and
	// TokenURL are Google's, or the emulator's ("" keeps the senders'
	// defaults).
	GA4Endpoint, DataManagerEndpoint, GoogleAdsEndpoint, APIVersion, TokenURL string
	// TokenSources are the Google access token sources to use, by Google
	// Ads backend (forwarder.AdsBackendDataManager: datamanager scope,
	// forwarder.AdsBackendGoogleAdsAPI: adwords scope); a backend without
	// one gets a new source from Creds.
	TokenSources map[string]oauth2.TokenSource
	// HTTPClient sends the requests (a client with a 30 s timeout when nil).
	HTTPClient *http.Client
	// Now tells the time, time.Now when nil.
	Now func() time.Time
}

// Failed reports whether any result is a Fail.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// Run runs every check the rules call for, in the order of the rules
// file's destinations and actions.
func Run(ctx context.Context, cfg Config) []Result {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var out []Result
	for _, d := range cfg.Rules.Destinations() {
		if d.Type == forwarder.DestinationGA4 {
			out = append(out, checkGA4(ctx, cfg, d))
		}
	}
	return append(out, checkAds(ctx, cfg)...)
}

// checkGA4 checks the API secret of a stream and sends a synthetic event
// to the validation server.
func checkGA4(ctx context.Context, cfg Config, d mapping.Destination) Result {
	r := Result{Check: fmt.Sprintf("ga4 %q %s", d.Name, d.MeasurementID)}
	key := fmt.Sprintf("%s: ga4_api_secrets[%q]", cfg.CredentialsPath, d.MeasurementID)
	secret := cfg.Creds.GA4Secrets()[d.MeasurementID]
	if why := secretProblem(secret, d.MeasurementID); why != "" {
		r.Status, r.Message = Fail, "API secret "+why
		r.Fix = key + ": in GA4, Admin > Data streams > the web stream of " + d.MeasurementID +
			" > Measurement Protocol API secrets, create one and copy its Secret value (not its name, not the measurement id)"
		return r
	}
	now := cfg.Now()
	s := ga4.NewSender(ga4.Config{Endpoint: cfg.GA4Endpoint, Secrets: map[string]string{d.MeasurementID: secret}, HTTPClient: cfg.HTTPClient, Now: cfg.Now})
	msgs, err := s.Validate(ctx, forwarder.Delivery{
		ID: "setup-check/" + d.Name, Type: forwarder.DestinationGA4, CallTime: now,
		GA4: &forwarder.GA4Event{
			MeasurementID: d.MeasurementID, ClientID: "1000000000.1000000000", Name: "callforward_setup_check",
			Params: map[string]any{"check": "setup"}, Time: now, Consent: d.Consent,
		},
	})
	switch {
	case err != nil:
		return fromSendError(r, err, key, nil)
	case len(msgs) > 0:
		texts := make([]string, len(msgs))
		for i, m := range msgs {
			texts[i] = m.String()
		}
		r.Status, r.Message = Fail, "Google's validation server refused the event: "+strings.Join(texts, "; ")
		r.Fix = fmt.Sprintf("%s: destination %q (line %d)", cfg.RulesPath, d.Name, d.Pos.Line)
		return r
	}
	r.Status = OK
	r.Message = "the validation server accepts its events; it does not check API secrets, so if no event shows in GA4 Realtime after the first call, the secret in " + key + " belongs to another stream"
	return r
}

// secretProblem says what is wrong with an API secret that cannot be one:
// missing, a placeholder, the measurement id, or with blanks or quotes.
func secretProblem(secret, measurementID string) string {
	lower := strings.ToLower(secret)
	switch {
	case secret == "":
		return "missing"
	case strings.Contains(lower, "replace") || strings.Contains(lower, "example") || strings.Contains(lower, "your-") || strings.Contains(lower, "xxxx"):
		return "wrong: it is still a placeholder"
	case strings.EqualFold(secret, measurementID) || strings.HasPrefix(secret, "G-"):
		return "wrong: it is a measurement id, not an API secret"
	case strings.ContainsAny(secret, " \t\r\n\"'"):
		return "wrong: it holds blanks or quotes (copied with its surroundings?)"
	case len(secret) < 10:
		return "wrong: too short to be a Measurement Protocol API secret"
	}
	return ""
}

// checkAds checks the Google Ads credentials and sends a validate-only
// conversion for each Google Ads action of the rules.
func checkAds(ctx context.Context, cfg Config) []Result {
	actions := cfg.Rules.AdsActions()
	if len(actions) == 0 {
		return nil
	}
	g := cfg.Creds.Google
	oauthKey := cfg.CredentialsPath + ": google.oauth_client"
	if g == nil {
		return []Result{{Check: "google credentials", Status: Fail,
			Message: "the rules send to Google Ads, and the credentials have no google section",
			Fix:     oauthKey + ": run forwarder google authorize --client-secret-file <file> --credentials " + cfg.CredentialsPath}}
	}
	var out []Result
	sources := map[string]oauth2.TokenSource{}
	senders := map[string]*googleads.Sender{}
	for _, backend := range []string{forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI} {
		if !usesBackend(actions, backend) {
			continue
		}
		scope, api := scopeOf(backend)
		r := Result{Check: "google access token for the " + api}
		ts, err := cfg.TokenSources[backend], error(nil)
		if ts == nil {
			ts, err = g.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, cfg.HTTPClient), cfg.TokenURL, scope)
		}
		if err == nil {
			_, err = ts.Token()
		}
		if err != nil {
			r.Status, r.Message = Fail, err.Error()
			r.Fix = oauthKey + ": the client id, secret or refresh token is wrong or revoked; run forwarder google authorize again"
			if te, ok := credentials.AsTokenError(err); ok && te.Code == "" && (te.Status == 0 || te.Status >= 500) {
				r.Status = Warn // no answer from Google
			}
			out = append(out, r)
			continue
		}
		r.Status, r.Message = OK, "obtained"
		out = append(out, r)
		sources[backend] = ts
		if backend == forwarder.AdsBackendGoogleAdsAPI {
			out = append(out, developerToken(cfg))
		}
	}
	for backend, ts := range sources {
		scfg := googleads.Config{
			DataManagerEndpoint: cfg.DataManagerEndpoint, GoogleAdsEndpoint: cfg.GoogleAdsEndpoint, APIVersion: cfg.APIVersion,
			DeveloperToken: g.DeveloperToken.Reveal(), ValidateOnly: true, HTTPClient: cfg.HTTPClient, Now: cfg.Now,
		}
		if backend == forwarder.AdsBackendDataManager {
			scfg.TokenSource = ts
		} else {
			scfg.AdsTokenSource = ts
		}
		s, err := googleads.NewSender(ctx, scfg)
		if err != nil {
			out = append(out, Result{Check: "google ads " + backend, Status: Fail, Message: err.Error()})
			continue
		}
		senders[backend] = s
	}
	seen := map[string]bool{}
	for _, a := range actions {
		c := a.Conversion
		key := c.Backend + "|" + c.CustomerID + "|" + c.LoginCustomerID + "|" + c.ConversionAction + "|" + c.Kind
		s := senders[c.Backend]
		if seen[key] || s == nil {
			continue
		}
		seen[key] = true
		out = append(out, checkAction(ctx, cfg, s, a))
	}
	return out
}

// developerToken checks that a developer token is there for the Google Ads
// API backend.
func developerToken(cfg Config) Result {
	r := Result{Check: "google ads api developer token", Status: OK, Message: "present"}
	if cfg.Creds.Google.DeveloperToken == "" {
		r.Status = Warn
		r.Message = "missing: the Google Ads API refuses requests without one unless the Cloud project has an access level of its own"
		r.Fix = cfg.CredentialsPath + ": google.developer_token: copy it from Google Ads, Admin > API Center of the manager account (or use backend: data_manager, which needs none)"
	}
	return r
}

// checkAction sends a synthetic validate-only conversion for a.
func checkAction(ctx context.Context, cfg Config, s *googleads.Sender, a mapping.AdsAction) Result {
	c := a.Conversion
	_, api := scopeOf(c.Backend)
	r := Result{Check: fmt.Sprintf("google ads %q customer %s action %s (%s)", a.Destination, c.CustomerID, c.ConversionAction, api)}
	if c.LoginCustomerID != "" {
		r.Check = fmt.Sprintf("google ads %q customer %s via %s action %s (%s)", a.Destination, c.CustomerID, c.LoginCustomerID, c.ConversionAction, api)
	}
	now := cfg.Now()
	conv := c
	conv.Time, conv.CallStart = now.Add(-time.Hour), now.Add(-time.Hour)
	conv.TransactionID = "callforward-setup-check"
	if c.Kind == forwarder.AdsCall {
		conv.CallerID = "+61255501234" // a number reserved for fiction
	} else {
		conv.GCLID = "callforward-setup-check"
	}
	if conv.Currency != "" {
		v := 1.0
		conv.Value = &v
	}
	err := s.SendBatch(ctx, []forwarder.Delivery{{
		ID: "setup-check/" + a.Rule + "/" + a.Destination, Type: forwarder.DestinationGoogleAds, CallTime: now, Ads: &conv,
	}})[0]
	if err == nil {
		r.Status, r.Message = OK, "Google accepts a test conversion (validate only: nothing recorded)"
		return r
	}
	return fromSendError(r, err, "", adsFix(cfg, a))
}

// fromSendError fills r from a failed request: Warn for a transient
// failure (Google or the network), Fail otherwise, with the fix for the
// failure's code.
func fromSendError(r Result, err error, ga4Key string, fix func(code string) string) Result {
	se := forwarder.Classify(err)
	r.Message = err.Error()
	if se.Kind != forwarder.KindPermanent && !forceFail(se.Code) {
		r.Status = Warn
		r.Message = "no verdict (try again later): " + r.Message
		return r
	}
	r.Status = Fail
	switch {
	case fix != nil:
		r.Fix = fix(se.Code)
	case ga4Key != "":
		r.Fix = ga4Key
	}
	return r
}

// forceFail reports whether a code the senders retry is a setup mistake
// that retrying does not fix.
func forceFail(code string) bool {
	switch code {
	case "oauth_invalid_grant", "DEVELOPER_TOKEN_PARAMETER_MISSING", "DEVELOPER_TOKEN_INVALID", "DEVELOPER_TOKEN_NOT_APPROVED":
		return true
	}
	return false
}

// adsFix returns what to change for each failure code of a's check.
func adsFix(cfg Config, a mapping.AdsAction) func(string) string {
	c := a.Conversion
	dest := fmt.Sprintf("%s: destination %q", cfg.RulesPath, a.Destination)
	return func(code string) string {
		switch code {
		case "PERMISSION_DENIED", "USER_PERMISSION_DENIED", "CUSTOMER_NOT_ENABLED", "INVALID_CUSTOMER_ID", "INVALID_LOGIN_CUSTOMER_ID", "CUSTOMER_NOT_FOUND":
			return fmt.Sprintf("%s: customer_id (%s) must be the account that owns the conversion action, and login_customer_id the manager account the Google user of %s: google.oauth_client reaches it through (leave it out for direct access); check both at the top of Google Ads",
				dest, c.CustomerID, cfg.CredentialsPath)
		case "INVALID_CONVERSION_ACTION_ID", "NO_CONVERSION_ACTION_FOUND", "PRODUCT_DESTINATION_NOT_FOUND", "INVALID_PRODUCT_DESTINATION_ID":
			return fmt.Sprintf("%s: conversion_action %s: no enabled conversion action with this id in customer %s; list them with forwarder google conversion-actions --customer-id %s",
				a.Pos, c.ConversionAction, c.CustomerID, c.CustomerID)
		case "INVALID_CONVERSION_ACTION_TYPE":
			return fmt.Sprintf("%s: conversion_action %s is not an import action; create one in Google Ads (Goals > Conversions > New > Import) or pick another with forwarder google conversion-actions --customer-id %s",
				a.Pos, c.ConversionAction, c.CustomerID)
		case "ACCESS_TOKEN_SCOPE_INSUFFICIENT":
			scope, api := scopeOf(c.Backend)
			return fmt.Sprintf("%s: google.oauth_client.refresh_token was granted without the %s scope (%s); run forwarder google authorize --scopes datamanager,adwords and tick every access",
				cfg.CredentialsPath, api, scope)
		case "DEVELOPER_TOKEN_PARAMETER_MISSING", "DEVELOPER_TOKEN_INVALID", "DEVELOPER_TOKEN_NOT_APPROVED", "CLOUD_PROJECT_NOT_APPROVED_FOR_PRODUCTION":
			return cfg.CredentialsPath + ": google.developer_token: copy the token from Google Ads, Admin > API Center of the manager account (or set backend: data_manager on the destination)"
		case "TERMS_AND_CONDITIONS_NOT_SIGNED", "CUSTOMER_NOT_ACCEPTED_CUSTOMER_DATA_TERMS":
			return fmt.Sprintf("Google Ads of customer %s: accept the customer data terms (Goals > Settings > Customer data terms)", c.CustomerID)
		case "CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE":
			return dest + ": set backend: data_manager"
		case "oauth_invalid_grant", "oauth_token":
			return cfg.CredentialsPath + ": google.oauth_client: the refresh token is revoked or wrong; run forwarder google authorize again"
		}
		return dest
	}
}

// usesBackend reports whether an action of actions sends through backend.
func usesBackend(actions []mapping.AdsAction, backend string) bool {
	for _, a := range actions {
		if a.Conversion.Backend == backend {
			return true
		}
	}
	return false
}

// scopeOf returns the OAuth scope and the name of a backend's API.
func scopeOf(backend string) (scope, api string) {
	if backend == forwarder.AdsBackendGoogleAdsAPI {
		return credentials.ScopeAdWords, "Google Ads API"
	}
	return credentials.ScopeDataManager, "Data Manager API"
}
