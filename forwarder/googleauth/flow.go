// Package googleauth obtains a Google refresh token with the installed-app
// OAuth flow: the user consents in a browser, Google redirects to a
// one-shot HTTP server on the loopback address, and the code it carries is
// exchanged for tokens. PKCE (S256) binds the code to this process and a
// random state binds the redirect to this run. Google retired the
// copy-paste ("out of band") flow, so a loopback redirect is the only way
// for a command-line tool; on a machine without a browser, the loopback
// port can be reached through an SSH tunnel.
package googleauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Default endpoints of Google's OAuth server.
const (
	DefaultAuthURL  = "https://accounts.google.com/o/oauth2/auth"
	DefaultTokenURL = "https://oauth2.googleapis.com/token"
)

// Flow is one run of the installed-app flow.
type Flow struct {
	// ClientID and ClientSecret identify the OAuth client (a desktop app).
	ClientID, ClientSecret string
	// AuthURL and TokenURL are Google's endpoints, or a stand-in's.
	AuthURL, TokenURL string
	// Scopes are the scopes asked for.
	Scopes []string
	// ListenPort is the loopback port of the redirect; 0 picks a free one.
	ListenPort int
	// Prompt receives the instructions and the consent URL.
	Prompt io.Writer
	// OpenBrowser, when not nil, is asked to open the consent URL; the URL
	// is printed either way.
	OpenBrowser func(url string) error
	// HTTPClient makes the code exchange (http.DefaultClient when nil).
	HTTPClient *http.Client
}

// Result is what a completed flow obtained.
type Result struct {
	// RefreshToken is the long-lived token to store; a secret.
	RefreshToken string
	// Granted are the scopes the user consented to, as Google reports
	// them; MissingScopes those asked for but not granted.
	Granted, MissingScopes []string
}

// Errors of a flow the caller may want to tell apart.
var (
	// ErrDenied: the user did not consent (Cancel on the consent screen).
	ErrDenied = errors.New("consent was not given")
	// ErrState: the redirect did not carry this run's state: it does not
	// answer this run's consent URL.
	ErrState = errors.New("the redirect's state does not match this run")
)

// Run prints the consent URL, waits for Google's redirect (until ctx
// ends), checks it and exchanges the code. It never writes a token or a
// secret to Prompt.
func (f Flow) Run(ctx context.Context) (Result, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(f.ListenPort)))
	if err != nil {
		return Result{}, fmt.Errorf("googleauth: listen on 127.0.0.1:%d for Google's redirect: %w", f.ListenPort, err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := &oauth2.Config{
		ClientID: f.ClientID, ClientSecret: f.ClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: f.AuthURL, TokenURL: f.TokenURL},
		RedirectURL: fmt.Sprintf("http://127.0.0.1:%d/", port),
		Scopes:      f.Scopes,
	}
	state, err := randomState()
	if err != nil {
		return Result{}, err
	}
	verifier := oauth2.GenerateVerifier()
	consentURL := cfg.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier),
		// prompt=consent makes Google issue a refresh token even to a user
		// who consented before.
		oauth2.SetAuthURLParam("prompt", "consent"))

	got := make(chan redirect, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := readRedirect(r, state)
		page := "Authorized. You can close this tab and go back to the terminal."
		status := http.StatusOK
		if res.err != nil {
			page, status = "Not authorized: "+res.err.Error(), http.StatusBadRequest
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!doctype html><title>callforward</title><p>%s</p>\n", html.EscapeString(page))
		select {
		case got <- res:
		default: // a second redirect after the first is ignored
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(f.Prompt, "Open this address in a browser, sign in with a Google account that can reach the Google Ads accounts, and allow access:\n\n  %s\n\n", consentURL)
	fmt.Fprintf(f.Prompt, "Waiting for Google's redirect to http://127.0.0.1:%d/ (on a server without a browser: run ssh -L %d:127.0.0.1:%d <server> from your computer first, or run this command on your computer) ...\n", port, port, port)
	if f.OpenBrowser != nil {
		if err := f.OpenBrowser(consentURL); err != nil {
			fmt.Fprintln(f.Prompt, "(no browser could be opened: open the address yourself)")
		}
	}
	var res redirect
	select {
	case <-ctx.Done():
		return Result{}, fmt.Errorf("googleauth: waiting for Google's redirect: %w", ctx.Err())
	case res = <-got:
	}
	if res.err != nil {
		return Result{}, fmt.Errorf("googleauth: %w", res.err)
	}
	if f.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, f.HTTPClient)
	}
	tok, err := cfg.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Result{}, fmt.Errorf("googleauth: exchange the code for tokens: %w", describeExchange(err))
	}
	if tok.RefreshToken == "" {
		return Result{}, errors.New("googleauth: Google answered without a refresh token; remove the app's access at https://myaccount.google.com/permissions and run again")
	}
	out := Result{RefreshToken: tok.RefreshToken}
	if s, _ := tok.Extra("scope").(string); s != "" {
		out.Granted = strings.Fields(s)
		for _, sc := range f.Scopes {
			if !slices.Contains(out.Granted, sc) {
				out.MissingScopes = append(out.MissingScopes, sc)
			}
		}
	}
	return out, nil
}

// redirect is what Google's redirect brought: a code, or why not.
type redirect struct {
	code string
	err  error
}

// readRedirect checks Google's redirect: the state first, then an error
// (consent denied) or the code.
func readRedirect(r *http.Request, state string) redirect {
	type res = redirect
	q := r.URL.Query()
	switch {
	case q.Get("state") != state:
		return res{err: fmt.Errorf("%w: it does not answer the consent URL this run printed; run the command again and use the new URL", ErrState)}
	case q.Get("error") == "access_denied":
		return res{err: fmt.Errorf("%w: access was refused on Google's consent screen; run the command again and click Allow (and tick every access asked for)", ErrDenied)}
	case q.Get("error") != "":
		return res{err: fmt.Errorf("the consent request was refused: %s", q.Get("error"))}
	case q.Get("code") == "":
		return res{err: errors.New("the redirect from Google carries no code")}
	}
	return res{code: q.Get("code")}
}

// describeExchange keeps the OAuth error of a failed exchange and drops
// the response body, which is not needed to act on it.
func describeExchange(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		hint := ""
		if re.ErrorCode == "invalid_client" {
			hint = " (the client id or secret of --client-secret-file is wrong)"
		}
		return fmt.Errorf("%s: %s%s", re.ErrorCode, re.ErrorDescription, hint)
	}
	return err
}

// randomState returns an unguessable state parameter.
func randomState() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("googleauth: random state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
