package app

import (
	"context"

	"github.com/callforward/callforward/forwarder/preflight"
)

// CheckSetup runs the online checks of `forwarder check --online` on the
// rules in force, with the app's credentials, Google endpoints and token
// sources (so its token fetches are counted as the senders' are). Its
// requests are not traced: they carry no call. Nothing is recorded at
// Google.
func (a *App) CheckSetup(ctx context.Context) []preflight.Result {
	return preflight.Run(ctx, preflight.Config{
		Rules: a.rules.Load(), RulesPath: a.cfg.RulesPath, Creds: a.creds, CredentialsPath: a.cfg.CredentialsPath,
		GA4Endpoint: a.cfg.GA4Endpoint, DataManagerEndpoint: a.cfg.DataManagerEndpoint, GoogleAdsEndpoint: a.cfg.GoogleAdsEndpoint,
		APIVersion: a.cfg.GoogleAdsAPIVersion, TokenURL: a.cfg.OAuthTokenURL,
		TokenSources: a.tokenSources,
	})
}
