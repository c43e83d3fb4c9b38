package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// OAuth grant types the token endpoint accepts.
const (
	grantRefreshToken = "refresh_token"
	grantJWTBearer    = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// accessToken is an access token the emulator issued.
type accessToken struct {
	scopes  []string
	expires time.Time
}

func (s *Server) routeOAuth(mux *http.ServeMux) {
	// The token endpoint is not faulted: how often a client asks for a
	// token depends on its cache, and the fault stream must depend on the
	// number of API requests alone.
	mux.HandleFunc("POST /token", s.oauthToken)
	s.routeAuthorize(mux)
}

// tokenReply is the token endpoint's success answer.
type tokenReply struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	// RefreshToken is issued by the authorization_code grant only.
	RefreshToken string `json:"refresh_token,omitempty"`
}

// oauthError is the token endpoint's error answer (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// oauthToken is Google's token endpoint: the authorization-code grant of
// the installed-app flow (see oauthAuthorize), the refresh-token grant of
// an OAuth client and the JWT-bearer grant of a service account. The
// client may authenticate in the body or with HTTP basic auth. Client
// secrets are checked only against AdsConfig.OAuthClients when it is set,
// JWT signatures never; revoked refresh tokens and service accounts
// (AdsConfig.RevokedRefreshTokens) get invalid_grant. A refresh token the
// code grant issued grants the scopes the user consented to, to its client
// only.
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	s.google.count(EndpointToken)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "the body must be application/x-www-form-urlencoded"})
		return
	}
	form := r.PostForm
	if id, secret, ok := r.BasicAuth(); ok {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	}
	cfg := s.google.config()
	gt := form.Get("grant_type")
	if gt == grantRefreshToken || gt == grantAuthorizationCode {
		if id := form.Get("client_id"); len(cfg.OAuthClients) > 0 && (cfg.OAuthClients[id] == "" || cfg.OAuthClients[id] != form.Get("client_secret")) {
			writeJSON(w, http.StatusUnauthorized, oauthError{"invalid_client", "Unauthorized"})
			return
		}
	}
	var scopes []string
	var refresh string
	switch gt {
	case grantAuthorizationCode:
		var oerr *oauthError
		if scopes, refresh, oerr = s.exchangeCode(form); oerr != nil {
			writeJSON(w, http.StatusBadRequest, *oerr)
			return
		}
	case grantRefreshToken:
		rt := form.Get("refresh_token")
		if form.Get("client_id") == "" || form.Get("client_secret") == "" || rt == "" {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "client_id, client_secret and refresh_token are required"})
			return
		}
		if slices.Contains(cfg.RevokedRefreshTokens, rt) {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Token has been expired or revoked."})
			return
		}
		granted, ok := cfg.RefreshTokenScopes[rt]
		s.google.mu.Lock()
		issued, ours := s.google.refresh[rt]
		s.google.mu.Unlock()
		switch {
		case ours && issued.clientID != form.Get("client_id"):
			writeJSON(w, http.StatusBadRequest, oauthError{"unauthorized_client", "Unauthorized"})
			return
		case ours:
			granted = issued.scopes
		case !ok:
			granted = []string{scopeDataManager, scopeAdWords}
		}
		scopes = granted
		if asked := strings.Fields(form.Get("scope")); len(asked) > 0 {
			for _, sc := range asked {
				if !slices.Contains(granted, sc) {
					writeJSON(w, http.StatusBadRequest, oauthError{"invalid_scope", "the refresh token was not granted " + sc})
					return
				}
			}
			scopes = asked
		}
	case grantJWTBearer:
		claims, err := parseJWT(form.Get("assertion"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Invalid JWT: " + err.Error()})
			return
		}
		if slices.Contains(cfg.RevokedRefreshTokens, claims.Issuer) {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Invalid JWT Signature."})
			return
		}
		scopes = strings.Fields(claims.Scope)
		if len(scopes) == 0 {
			writeJSON(w, http.StatusBadRequest, oauthError{"invalid_scope", "Invalid OAuth scope or ID token audience provided."})
			return
		}
	default:
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported", gt)})
		return
	}

	lifetime := cfg.lifetime()
	g := s.google
	g.mu.Lock()
	g.issued++
	tok := fmt.Sprintf("ya29.emulated-%d", g.issued)
	g.tokens[tok] = accessToken{scopes: slices.Clone(scopes), expires: s.now().Add(lifetime)}
	g.mu.Unlock()

	s.log.DebugContext(r.Context(), "emulator: token issued", "grant_type", gt, "scopes", len(scopes))
	writeJSON(w, http.StatusOK, tokenReply{
		AccessToken: tok, TokenType: "Bearer",
		ExpiresIn: int(lifetime / time.Second), Scope: strings.Join(scopes, " "),
		RefreshToken: refresh,
	})
}

// jwtClaims are the claims of a service account's assertion that matter.
type jwtClaims struct {
	Issuer string `json:"iss"`
	Scope  string `json:"scope"`
}

// parseJWT decodes a JWT's header and claims without checking the
// signature: the emulator accepts any well-formed assertion.
func parseJWT(assertion string) (jwtClaims, error) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 || parts[2] == "" {
		return jwtClaims{}, fmt.Errorf("want three dot-separated parts")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeJWTPart(parts[0], &header); err != nil || header.Alg == "" {
		return jwtClaims{}, fmt.Errorf("unreadable header")
	}
	var c jwtClaims
	if err := decodeJWTPart(parts[1], &c); err != nil {
		return jwtClaims{}, fmt.Errorf("unreadable claims")
	}
	if c.Issuer == "" {
		return jwtClaims{}, fmt.Errorf("no iss claim")
	}
	return c, nil
}

func decodeJWTPart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(part, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// authorize checks the request's bearer token: issued here, not expired,
// holding scope. Otherwise it answers 401 or 403 as Google does and
// returns false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scope, domain string) bool {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/"`)
		writeGoogleError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request is missing required authentication credential. Expected OAuth 2 access token.",
			newErrorInfo("CREDENTIALS_MISSING", "googleapis.com"))
		return false
	}
	s.google.mu.Lock()
	at, known := s.google.tokens[tok]
	s.google.mu.Unlock()
	switch {
	case !known:
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeGoogleError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token.",
			newErrorInfo("ACCESS_TOKEN_TYPE_UNSUPPORTED", "googleapis.com"))
		return false
	case !s.now().Before(at.expires):
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		writeGoogleError(w, http.StatusUnauthorized, "UNAUTHENTICATED",
			"Request had invalid authentication credentials. Expected OAuth 2 access token.",
			newErrorInfo("ACCESS_TOKEN_EXPIRED", "googleapis.com"))
		return false
	case !slices.Contains(at.scopes, scope):
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="`+scope+`"`)
		writeGoogleError(w, http.StatusForbidden, "PERMISSION_DENIED",
			"Request had insufficient authentication scopes.",
			newErrorInfo("ACCESS_TOKEN_SCOPE_INSUFFICIENT", domain))
		return false
	}
	return true
}

// ExpireAccessTokens makes every access token issued so far invalid, as
// when Google revokes them: the next API request with one gets 401.
func (s *Server) ExpireAccessTokens() {
	s.google.mu.Lock()
	defer s.google.mu.Unlock()
	clear(s.google.tokens)
}
