package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/app"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/preflight"
	"github.com/callforward/callforward/mapping"
)

func check(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("check", io)
	rulesPath := fs.String("rules", "rules.yaml", "rules file (YAML)")
	credsPath := fs.String("credentials", "", "credentials file (JSON); checked against the rules when given")
	tokenURL := fs.String("oauth-token-url", app.Defaults().OAuthTokenURL, "Google OAuth2 token endpoint (to verify a token can be obtained)")
	online := fs.Bool("online", false, "also ask Google: a test event to each GA4 stream's validation server and a validate-only conversion for each Google Ads conversion action (nothing is recorded)")
	asJSON := fs.Bool("json", false, "with --online: print the online checks as JSON on stdout (the offline findings go to stderr)")
	ep := googleEndpointFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *asJSON {
		// The findings below go to stderr, so that stdout is the JSON alone.
		io.Stdout, io.Stderr = io.Stderr, io.Stdout
	}
	rules, err := mapping.Load(*rulesPath)
	if err != nil {
		fmt.Fprintln(io.Stdout, err)
		return errors.New("the rules file has errors")
	}
	for _, w := range rules.Warnings() {
		fmt.Fprintf(io.Stdout, "warning: %s\n", w)
	}
	fmt.Fprintf(io.Stdout, "%s: ok (%d destinations, %d rules)\n", *rulesPath, len(rules.Destinations()), len(rules.RuleNames()))
	if *credsPath == "" {
		if *online {
			return errors.New("--online needs --credentials: the checks use the API secrets and the Google sign-in")
		}
		return nil
	}
	creds, err := credentials.Load(*credsPath)
	if err != nil {
		fmt.Fprintln(io.Stdout, err)
		return errors.New("the credentials file has errors")
	}
	if w := credentials.PermissionWarning(*credsPath); w != "" {
		fmt.Fprintf(io.Stdout, "warning: %s\n", w)
	}
	var problems []error
	if len(creds.WebhookTokens) == 0 {
		fmt.Fprintln(io.Stdout, "warning: no webhook_tokens: serve will need FORWARDER_WEBHOOK_TOKENS")
	}
	for _, d := range rules.Destinations() {
		if d.MeasurementID == "" {
			continue
		}
		if missing := creds.MissingGA4Secrets([]string{d.MeasurementID}); len(missing) > 0 {
			problems = append(problems, fmt.Errorf("destination %q: no GA4 API secret for %s in %s", d.Name, d.MeasurementID, *credsPath))
		} else {
			fmt.Fprintf(io.Stdout, "destination %q: GA4 %s has an API secret\n", d.Name, d.MeasurementID)
		}
	}
	if !*online {
		problems = append(problems, checkGoogleAccess(ctx, rules, creds, *tokenURL, io)...)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(io.Stdout, p)
		}
		return errors.New("the credentials do not cover the rules")
	}
	fmt.Fprintf(io.Stdout, "%s: ok\n", *credsPath)
	if !*online {
		return nil
	}
	results := preflight.Run(ctx, ep.config(rules, *rulesPath, creds, *credsPath, *tokenURL))
	if *asJSON {
		if results == nil {
			results = []preflight.Result{}
		}
		enc := json.NewEncoder(io.Stderr) // stdout: swapped above
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return fmt.Errorf("write the results: %w", err)
		}
	} else {
		printResults(io.Stdout, results)
	}
	if preflight.Failed(results) {
		return errors.New("part of the setup was refused: fix what the fail lines name, then run check --online again")
	}
	return nil
}

// checkGoogleAccess obtains an access token for each Google Ads
// destination's API (Data Manager or Google Ads API scope), so that a
// wrong client secret or a revoked refresh token shows up before serve.
func checkGoogleAccess(ctx context.Context, rules *mapping.Rules, creds *credentials.File, tokenURL string, io IO) []error {
	var problems []error
	tokens := map[string]error{} // by scope: one token request each
	for _, d := range rules.Destinations() {
		if d.Type != forwarder.DestinationGoogleAds {
			continue
		}
		if creds.Google == nil {
			problems = append(problems, fmt.Errorf("destination %q: Google Ads needs a google section (oauth_client or a service account key) in the credentials", d.Name))
			continue
		}
		scope, api := credentials.ScopeDataManager, "Data Manager API"
		if d.Backend == forwarder.AdsBackendGoogleAdsAPI {
			scope, api = credentials.ScopeAdWords, "Google Ads API"
		}
		err, done := tokens[scope]
		if !done {
			tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			var ts oauth2.TokenSource
			if ts, err = creds.Google.TokenSource(tctx, tokenURL, scope); err == nil {
				_, err = ts.Token()
			}
			cancel()
			tokens[scope] = err
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("destination %q (%s, customer %s): no access token: %w", d.Name, api, d.CustomerID, err))
			continue
		}
		fmt.Fprintf(io.Stdout, "destination %q: Google Ads customer %s through the %s: access token obtained\n", d.Name, d.CustomerID, api)
	}
	return problems
}
