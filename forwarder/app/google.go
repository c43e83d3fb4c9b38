package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/googleads"
	"github.com/callforward/callforward/mapping"
)

// adsDestinations returns the rules' Google Ads destinations.
func adsDestinations(r *mapping.Rules) []mapping.Destination {
	var out []mapping.Destination
	for _, d := range r.Destinations() {
		if d.Type == forwarder.DestinationGoogleAds {
			out = append(out, d)
		}
	}
	return out
}

// adsSender builds the Google Ads sender from the Google credentials, with
// a token source per scope, and the readiness check that reports a token
// Google refuses (deliveries then wait and are retried; nothing is lost).
// It returns nil sender when credentials.json has no Google settings.
func (a *App) adsSender(ctx context.Context, creds *credentials.File) (*googleads.Sender, func(context.Context) error, error) {
	if creds.Google == nil {
		return nil, nil, nil
	}
	dm, err := creds.Google.TokenSource(ctx, a.cfg.OAuthTokenURL, credentials.ScopeDataManager)
	if err != nil {
		return nil, nil, fmt.Errorf("google credentials: %w", err)
	}
	ads, err := creds.Google.TokenSource(ctx, a.cfg.OAuthTokenURL, credentials.ScopeAdWords)
	if err != nil {
		return nil, nil, fmt.Errorf("google credentials: %w", err)
	}
	for _, ts := range []oauth2.TokenSource{dm, ads} {
		if src, ok := ts.(*credentials.Source); ok {
			src.OnRefresh(a.countTokenRefresh)
		}
	}
	a.tokenSources = map[string]oauth2.TokenSource{forwarder.AdsBackendDataManager: dm, forwarder.AdsBackendGoogleAdsAPI: ads}
	s, err := googleads.NewSender(ctx, googleads.Config{
		DataManagerEndpoint: a.cfg.DataManagerEndpoint,
		GoogleAdsEndpoint:   a.cfg.GoogleAdsEndpoint,
		APIVersion:          a.cfg.GoogleAdsAPIVersion,
		TokenSource:         dm,
		AdsTokenSource:      ads,
		DeveloperToken:      creds.Google.DeveloperToken.Reveal(),
		ValidateOnly:        a.cfg.AdsValidateOnly,
		HTTPClient:          a.httpClient,
	})
	if err != nil {
		return nil, nil, err
	}
	check := func(context.Context) error {
		// Only the scopes the current rules use matter.
		var sources []oauth2.TokenSource
		for _, d := range adsDestinations(a.rules.Load()) {
			if d.Backend == forwarder.AdsBackendGoogleAdsAPI {
				sources = append(sources, ads)
			} else {
				sources = append(sources, dm)
			}
		}
		for _, ts := range sources {
			if _, err := ts.Token(); err != nil {
				if credentials.IsRevoked(err) {
					return fmt.Errorf("the refresh token is refused by Google (revoked or expired); Google Ads deliveries wait until credentials.json has a new one: %w", err)
				}
				return fmt.Errorf("no Google access token; Google Ads deliveries wait: %w", err)
			}
		}
		return nil
	}
	return s, check, nil
}

// countTokenRefresh counts a fetch of a Google access token in the
// metrics. Tokens are fetched only once the app runs, after the metrics
// exist; one fetched before is not counted.
func (a *App) countTokenRefresh(r credentials.Refresh) {
	a.console.tokenFetched(r.Err, time.Now())
	if a.metrics != nil {
		a.metrics.TokenRefresh(r.Kind, r.Scope, r.Err)
	}
}

// checkAdsCredentials refuses rules with Google Ads destinations when the
// credentials cannot reach Google Ads.
func checkAdsCredentials(r *mapping.Rules, creds *credentials.File) error {
	if len(adsDestinations(r)) > 0 && creds.Google == nil {
		return errors.New("credentials: the rules send to Google Ads but credentials.json has no google section (oauth_client or a service account key)")
	}
	return nil
}
