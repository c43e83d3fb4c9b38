package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// grantAuthorizationCode is the grant of the installed-app flow.
const grantAuthorizationCode = "authorization_code"

// codeLifetime is how long an authorization code can be exchanged.
const codeLifetime = 10 * time.Minute

// authCode is an authorization code the consent screen issued.
type authCode struct {
	clientID, redirectURI string
	scopes                []string
	challenge, method     string
	expires               time.Time
}

// issuedRefresh is a refresh token the code exchange issued.
type issuedRefresh struct {
	clientID string
	scopes   []string
}

func (s *Server) routeAuthorize(mux *http.ServeMux) {
	mux.HandleFunc("GET /o/oauth2/auth", s.oauthAuthorize)
	mux.HandleFunc("GET /o/oauth2/v2/auth", s.oauthAuthorize)
}

// oauthAuthorize is Google's consent screen, answered at once as if the
// user had signed in and clicked Allow (or, with AdsConfig.DenyConsent,
// Cancel): a redirect to redirect_uri with a code (or error=access_denied)
// and the state. A request Google would refuse to show a consent screen
// for (no client id, a redirect that is not a loopback address, no
// scope, an unknown response type or PKCE method) gets Google's 400
// error page instead, with no redirect. With AdsConfig.ConsentScopes the
// user grants only those of the scopes asked, as Google's granular
// consent allows.
func (s *Server) oauthAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cfg := s.google.config()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	scopes := strings.Fields(q.Get("scope"))
	method := q.Get("code_challenge_method")
	switch {
	case q.Get("client_id") == "":
		authorizeError(w, "invalid_request", "Missing required parameter: client_id")
		return
	case len(cfg.OAuthClients) > 0 && cfg.OAuthClients[q.Get("client_id")] == "":
		authorizeError(w, "invalid_client", "The OAuth client was not found.")
		return
	case err != nil || redirect.Scheme != "http" || !isLoopback(redirect.Hostname()):
		authorizeError(w, "invalid_request", "redirect_uri must be a loopback address (http://127.0.0.1:port) for a desktop app")
		return
	case q.Get("response_type") != "code":
		authorizeError(w, "unsupported_response_type", "response_type must be code")
		return
	case len(scopes) == 0:
		authorizeError(w, "invalid_request", "Missing required parameter: scope")
		return
	case q.Get("code_challenge") != "" && method != "S256" && method != "plain":
		authorizeError(w, "invalid_request", "code_challenge_method must be S256 or plain")
		return
	}
	back := redirect.Query()
	if st := q.Get("state"); st != "" {
		back.Set("state", st)
	}
	if cfg.DenyConsent {
		back.Set("error", "access_denied")
		redirect.RawQuery = back.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusFound)
		return
	}
	if len(cfg.ConsentScopes) > 0 {
		scopes = slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return !slices.Contains(cfg.ConsentScopes, sc) })
	}
	code := "4/emulated-" + randomToken()
	g := s.google
	g.mu.Lock()
	g.codes[code] = authCode{
		clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), scopes: scopes,
		challenge: q.Get("code_challenge"), method: method, expires: s.now().Add(codeLifetime),
	}
	g.mu.Unlock()
	back.Set("code", code)
	back.Set("scope", strings.Join(scopes, " "))
	redirect.RawQuery = back.Encode()
	s.log.DebugContext(r.Context(), "emulator: consent given", "scopes", len(scopes))
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// authorizeError answers Google's error page of the consent screen.
func authorizeError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte("Error 400: " + code + "\n" + msg + "\n"))
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// randomToken returns 24 random bytes in base64url.
func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// exchangeCode serves the authorization_code grant: the code must have
// been issued to this client and redirect URI, not yet used nor expired,
// and the code verifier must match its PKCE challenge. It returns the
// granted scopes and a new refresh token, or the OAuth error to answer.
func (s *Server) exchangeCode(form url.Values) (scopes []string, refresh string, oerr *oauthError) {
	g := s.google
	g.mu.Lock()
	defer g.mu.Unlock()
	code := form.Get("code")
	c, ok := g.codes[code]
	delete(g.codes, code) // a code is good for one try
	switch {
	case code == "":
		return nil, "", &oauthError{"invalid_request", "Missing required parameter: code"}
	case !ok || !s.now().Before(c.expires):
		return nil, "", &oauthError{"invalid_grant", "Malformed auth code."}
	case c.clientID != form.Get("client_id"):
		return nil, "", &oauthError{"invalid_grant", "The auth code was issued to another client."}
	case c.redirectURI != form.Get("redirect_uri"):
		return nil, "", &oauthError{"redirect_uri_mismatch", "Bad Request"}
	case c.challenge != "" && form.Get("code_verifier") == "":
		return nil, "", &oauthError{"invalid_grant", "Missing code verifier."}
	case c.challenge != "" && !verifierMatches(form.Get("code_verifier"), c.challenge, c.method):
		return nil, "", &oauthError{"invalid_grant", "Invalid code verifier."}
	}
	refresh = "1//emulated-" + randomToken()
	g.refresh[refresh] = issuedRefresh{clientID: c.clientID, scopes: c.scopes}
	return slices.Clone(c.scopes), refresh, nil
}

// verifierMatches checks a PKCE code verifier against its challenge
// (RFC 7636 §4.6).
func verifierMatches(verifier, challenge, method string) bool {
	if method == "plain" {
		return verifier == challenge
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}
