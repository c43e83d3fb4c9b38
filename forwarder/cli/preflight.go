package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/callforward/callforward/forwarder/app"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/preflight"
	"github.com/callforward/callforward/mapping"
)

// googleEndpoints are the Google base URLs of the commands that reach
// Google outside serve.
type googleEndpoints struct {
	ga4, dataManager, googleAds, apiVersion string
}

// googleEndpointFlags defines the endpoint flags with serve's defaults.
func googleEndpointFlags(fs *flag.FlagSet) *googleEndpoints {
	d := app.Defaults()
	ep := &googleEndpoints{}
	fs.StringVar(&ep.ga4, "ga4-endpoint", d.GA4Endpoint, "GA4 Measurement Protocol base URL")
	fs.StringVar(&ep.dataManager, "datamanager-endpoint", d.DataManagerEndpoint, "Google Data Manager API base URL")
	fs.StringVar(&ep.googleAds, "googleads-endpoint", d.GoogleAdsEndpoint, "Google Ads API base URL")
	fs.StringVar(&ep.apiVersion, "googleads-api-version", d.GoogleAdsAPIVersion, "Google Ads API version")
	return ep
}

// config returns the preflight configuration for these endpoints.
func (ep *googleEndpoints) config(rules *mapping.Rules, rulesPath string, creds *credentials.File, credsPath, tokenURL string) preflight.Config {
	return preflight.Config{
		Rules: rules, RulesPath: rulesPath, Creds: creds, CredentialsPath: credsPath,
		GA4Endpoint: ep.ga4, DataManagerEndpoint: ep.dataManager, GoogleAdsEndpoint: ep.googleAds,
		APIVersion: ep.apiVersion, TokenURL: tokenURL,
	}
}

// printResults writes one line per check, and the fix under a failure or
// warning.
func printResults(w io.Writer, rs []preflight.Result) {
	for _, r := range rs {
		fmt.Fprintf(w, "%-4s %s: %s\n", r.Status, r.Check, r.Message)
		if r.Fix != "" {
			fmt.Fprintf(w, "     fix: %s\n", r.Fix)
		}
	}
}
