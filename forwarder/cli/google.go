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

	"github.com/callforward/callforward/forwarder/credentials"
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

func googleConversionActions(ctx context.Context, args []string, io IO) error {
	return errors.New("not implemented")
}
