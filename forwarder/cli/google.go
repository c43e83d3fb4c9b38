package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder/app"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/googleads"
	"github.com/callforward/callforward/forwarder/googleauth"
)

// googleScopes are the short names --scopes takes.
var googleScopes = map[string]string{
	"datamanager": credentials.ScopeDataManager,
	"adwords":     credentials.ScopeAdWords,
}

func google(ctx context.Context, args []string, io IO) error {
	usage := func() {
		fmt.Fprintln(io.Stderr, "usage: forwarder google authorize|conversion-actions [flags]")
		fmt.Fprintln(io.Stderr, "  authorize           sign in with Google in a browser and store a refresh token in credentials.json")
		fmt.Fprintln(io.Stderr, "  conversion-actions  list a Google Ads account's conversion actions that take imports, as rules-file lines")
	}
	if len(args) == 0 {
		usage()
		return errUsage
	}
	switch args[0] {
	case "authorize":
		return googleAuthorize(ctx, args[1:], io)
	case "conversion-actions":
		return googleConversionActions(ctx, args[1:], io)
	}
	usage()
	return errUsage
}

func googleAuthorize(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("google authorize", io)
	clientFile := fs.String("client-secret-file", "", "the OAuth client's JSON file, downloaded from the Google Cloud console (Credentials > OAuth client ID > Desktop app > Download JSON)")
	scopes := fs.String("scopes", "datamanager,adwords", "APIs to authorize, comma-separated: datamanager (Data Manager API), adwords (Google Ads API), or full scope URLs")
	credsPath := fs.String("credentials", "credentials.json", "credentials file to write client_id, client_secret and refresh_token into (other keys are kept)")
	port := fs.Int("listen-port", 0, "loopback port for Google's redirect (0: any free port); fix it to tunnel it over SSH from a machine with a browser")
	noBrowser := fs.Bool("no-browser", false, "only print the consent address; do not try to open a browser")
	authURL := fs.String("auth-url", "", "Google's OAuth consent endpoint (default: the client secret file's auth_uri, else Google's)")
	tokenURL := fs.String("token-url", "", "Google's OAuth token endpoint (default: the client secret file's token_uri, else Google's)")
	timeout := fs.Duration("timeout", 10*time.Minute, "how long to wait for the consent")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *clientFile == "" {
		return errors.New("--client-secret-file is required: create an OAuth client of type Desktop app in the Google Cloud console (APIs & Services > Credentials) and download its JSON")
	}
	client, err := googleauth.ReadClientFile(*clientFile)
	if err != nil {
		return err
	}
	if *authURL != "" {
		client.AuthURL = *authURL
	}
	if *tokenURL != "" {
		client.TokenURL = *tokenURL
	}
	var asked []string
	for s := range strings.SplitSeq(*scopes, ",") {
		s = strings.TrimSpace(s)
		if full, ok := googleScopes[s]; ok {
			s = full
		} else if !strings.HasPrefix(s, "https://") {
			return fmt.Errorf("--scopes: unknown scope %q: give datamanager, adwords or a full scope URL", s)
		}
		asked = append(asked, s)
	}
	flow := googleauth.Flow{
		ClientID: client.ID, ClientSecret: client.Secret,
		AuthURL: client.AuthURL, TokenURL: client.TokenURL,
		Scopes: asked, ListenPort: *port, Prompt: io.Stdout,
	}
	if !*noBrowser {
		flow.OpenBrowser = openBrowser
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := flow.Run(ctx)
	if err != nil {
		return err
	}
	if err := credentials.SaveOAuthClient(*credsPath, credentials.OAuthClient{
		ClientID: client.ID, ClientSecret: credentials.Secret(client.Secret), RefreshToken: credentials.Secret(res.RefreshToken),
	}); err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "%s: google.oauth_client set (client_id, client_secret, refresh_token); mode 0600\n", *credsPath)
	if len(res.MissingScopes) > 0 {
		fmt.Fprintf(io.Stdout, "warning: access not granted for %s: the APIs that need it will refuse the forwarder; run again and tick every access Google asks for\n", strings.Join(res.MissingScopes, ", "))
	}
	fmt.Fprintf(io.Stdout, "next: forwarder check --online --rules rules.yaml --credentials %s\n", *credsPath)
	return nil
}

// openBrowser asks the desktop to open url; it fails where there is no
// desktop to ask.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no display")
		}
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open a browser: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// uiConversionActionHelp says where the Google Ads interface shows a
// conversion action's id.
const uiConversionActionHelp = `Without a developer token the list cannot be fetched; the Google Ads interface shows the ids:
  Google Ads > Goals > Conversions > Summary: open the conversion action (its source must be
  "Import", e.g. "Import from clicks" or "Calls from ads using call reporting"); the id is the
  number after ctId= in the browser's address bar. Put it in the rules file as
    conversion_action: "<that number>"
To list them here, set google.developer_token in the credentials (Google Ads > Admin > API Center).`

func googleConversionActions(ctx context.Context, args []string, io IO) error {
	fs := newFlagSet("google conversion-actions", io)
	customer := fs.String("customer-id", "", "the Google Ads account (10 digits, dashes allowed) that owns the conversion actions")
	login := fs.String("login-customer-id", "", "the manager account access goes through, if any")
	credsPath := fs.String("credentials", "credentials.json", "credentials file (JSON) with google.oauth_client (or a service account) and google.developer_token")
	tokenURL := fs.String("oauth-token-url", app.Defaults().OAuthTokenURL, "Google OAuth2 token endpoint")
	ep := googleEndpointFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cid, err := customerIDFlag("--customer-id", *customer, true)
	if err != nil {
		return err
	}
	mid, err := customerIDFlag("--login-customer-id", *login, false)
	if err != nil {
		return err
	}
	creds, err := credentials.Load(*credsPath)
	if err != nil {
		return err
	}
	if creds.Google == nil || creds.Google.DeveloperToken == "" {
		fmt.Fprintln(io.Stdout, uiConversionActionHelp)
		return nil
	}
	ts, err := creds.Google.TokenSource(ctx, *tokenURL, credentials.ScopeAdWords)
	if err != nil {
		return err
	}
	actions, err := googleads.ListImportActions(ctx, googleads.SearchConfig{
		Endpoint: ep.googleAds, APIVersion: ep.apiVersion, TokenSource: ts, DeveloperToken: creds.Google.DeveloperToken.Reveal(),
	}, cid, mid)
	if err != nil {
		return fmt.Errorf("%w\n(check --customer-id and --login-customer-id: the Google user of %s must reach the account, through that manager when one is given)", err, *credsPath)
	}
	fmt.Fprintf(io.Stdout, "# Conversion actions of customer %s that take imports (id, name, type, status).\n", cid)
	fmt.Fprintln(io.Stdout, "# Paste the line of the one to record into a Google Ads action of the rules file.")
	if len(actions) == 0 {
		fmt.Fprintln(io.Stdout, "# none: create one in Google Ads > Goals > Conversions > New conversion action > Import")
	}
	for _, a := range actions {
		note := ""
		if a.Status != "ENABLED" {
			note = " (not enabled: Google refuses conversions for it)"
		}
		fmt.Fprintf(io.Stdout, "conversion_action: %q  # %s, %s, %s%s\n", a.ID, a.Name, a.Type, a.Status, note)
	}
	return nil
}

// customerIDFlag returns a customer id flag's value without dashes,
// checked to be 10 digits; "" when it is optional and not given.
func customerIDFlag(name, v string, required bool) (string, error) {
	id := strings.ReplaceAll(strings.TrimSpace(v), "-", "")
	switch {
	case id == "" && required:
		return "", fmt.Errorf("%s is required: the 10-digit id shown at the top of Google Ads, e.g. 123-456-7890", name)
	case id == "":
		return "", nil
	case len(id) != 10 || strings.Trim(id, "0123456789") != "":
		return "", fmt.Errorf("%s %q is not a Google Ads customer id: 10 digits, with or without dashes", name, v)
	}
	return id, nil
}
