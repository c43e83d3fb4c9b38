package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// OAuth scopes of the Google APIs the forwarder calls.
const (
	// ScopeDataManager is the scope of the Data Manager API. A token minted
	// with ScopeAdWords alone does not work there.
	ScopeDataManager = "https://www.googleapis.com/auth/datamanager"
	// ScopeAdWords is the scope of the Google Ads API.
	ScopeAdWords = "https://www.googleapis.com/auth/adwords"
)

// TokenSource returns a source of access tokens for scopes, from the OAuth
// client and refresh token when g has one, else from the service-account
// key (file or inline). tokenURL replaces Google's token endpoint (for the
// emulator); "" keeps Google's.
//
// ctx is used for every token request the source makes during its whole
// life, so it must outlive the source (not a request context); an
// *http.Client stored in it under oauth2.HTTPClient makes those requests.
//
// The source caches the token until shortly before it expires. Its dynamic
// type is *Source, whose Invalidate drops the cached token after the API
// refused it and whose OnRefresh reports every token fetch. Its errors are
// *TokenError values, which never hold a secret; IsRevoked tells a revoked
// or expired refresh token.
//
// With a refresh token, scopes only document the intent: Google grants the
// scopes the user consented to when the refresh token was made.
func (g *Google) TokenSource(ctx context.Context, tokenURL string, scopes ...string) (oauth2.TokenSource, error) {
	if g == nil {
		return nil, errors.New("credentials: no google settings (oauth_client or a service account key) in credentials.json")
	}
	var build func() oauth2.TokenSource
	var kind string
	switch {
	case g.OAuthClient != nil:
		kind = KindAuthorizedUser
		c := g.OAuthClient
		cfg := &oauth2.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret.Reveal(),
			Endpoint:     google.Endpoint,
			Scopes:       scopes,
		}
		if tokenURL != "" {
			cfg.Endpoint.TokenURL = tokenURL
		}
		refresh := c.RefreshToken.Reveal()
		build = func() oauth2.TokenSource {
			return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refresh})
		}
	case g.ServiceAccountKeyFile != "" || len(g.ServiceAccountKey) > 0:
		kind = KindServiceAccount
		key, err := g.serviceAccountKey()
		if err != nil {
			return nil, err
		}
		if build, err = serviceAccountSource(ctx, key, tokenURL, scopes); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("credentials: google: give oauth_client or a service account key")
	}
	s := &Source{kind: kind, scope: scopeLabel(scopes)}
	// The library's sources cache their token and fetch a new one only
	// once it has expired. The cache below holds the very token they
	// returned, judged by the same expiry rule, so it asks them only when
	// that token has expired for them too: each call to fetches is a
	// request to the token endpoint.
	s.build = func() oauth2.TokenSource {
		return oauth2.ReuseTokenSource(nil, fetches{src: build(), s: s})
	}
	s.src = s.build()
	return s, nil
}

// The kinds of credential a Source fetches tokens with (Refresh.Kind).
const (
	// KindAuthorizedUser is an OAuth client with a refresh token.
	KindAuthorizedUser = "authorized_user"
	// KindServiceAccount is a service-account key.
	KindServiceAccount = "service_account"
)

// scopeLabel names scopes by the last path element of each (datamanager,
// adwords), joined with "+".
func scopeLabel(scopes []string) string {
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = sc[strings.LastIndex(sc, "/")+1:]
	}
	return strings.Join(names, "+")
}

// Refresh is one fetch of an access token from the token endpoint, as
// Source.OnRefresh reports it. A cached token handed out again is not a
// refresh. It holds no secret.
type Refresh struct {
	// Kind is the credential: KindAuthorizedUser or KindServiceAccount.
	Kind string
	// Scope names the scopes asked for ("datamanager", "adwords").
	Scope string
	// Err is the failure (a *TokenError), nil when a token was obtained.
	Err error
}

// fetches is the token source the Source's cache asks when its token has
// expired; it reports each fetch to the Source's observer.
type fetches struct {
	src oauth2.TokenSource
	s   *Source
}

func (f fetches) Token() (*oauth2.Token, error) {
	tok, err := f.src.Token()
	if fn := f.s.observer.Load(); fn != nil {
		r := Refresh{Kind: f.s.kind, Scope: f.s.scope}
		if err != nil {
			r.Err = newTokenError(err)
		}
		(*fn)(r)
	}
	return tok, err
}

// serviceAccountKey returns the service-account key JSON.
func (g *Google) serviceAccountKey() ([]byte, error) {
	if len(g.ServiceAccountKey) > 0 {
		return g.ServiceAccountKey, nil
	}
	key, err := os.ReadFile(g.ServiceAccountKeyFile)
	if err != nil {
		return nil, fmt.Errorf("credentials: service account key: %w", err)
	}
	return key, nil
}

// serviceAccountSource returns a builder of token sources for the
// service-account key. Only keys of type service_account are accepted:
// a credential of another type could make the library fetch a token from
// wherever the file says.
func serviceAccountSource(ctx context.Context, key []byte, tokenURL string, scopes []string) (func() oauth2.TokenSource, error) {
	if tokenURL == "" {
		creds, err := google.CredentialsFromJSONWithType(ctx, key, google.ServiceAccount, scopes...)
		if err != nil {
			return nil, fmt.Errorf("credentials: service account key: %w", err)
		}
		// The library's source caches; rebuilding it is how Invalidate
		// drops a token.
		return func() oauth2.TokenSource {
			c, err := google.CredentialsFromJSONWithType(ctx, key, google.ServiceAccount, scopes...)
			if err != nil {
				return creds.TokenSource
			}
			return c.TokenSource
		}, nil
	}
	cfg, err := google.JWTConfigFromJSON(key, scopes...)
	if err != nil {
		return nil, fmt.Errorf("credentials: service account key: %w", err)
	}
	cfg.TokenURL = tokenURL
	return func() oauth2.TokenSource { return cfg.TokenSource(ctx) }, nil
}

// Source is the oauth2.TokenSource that TokenSource returns: a cached
// token source whose cache can be dropped. It is safe for concurrent use.
type Source struct {
	build       func() oauth2.TokenSource
	kind, scope string
	observer    atomic.Pointer[func(Refresh)]

	mu  sync.Mutex
	src oauth2.TokenSource
}

// OnRefresh makes s call fn after every fetch of a new access token from
// the token endpoint, successful or not (metrics count them). fn runs on
// the goroutine asking for the token and must not block; it replaces any
// fn set before.
func (s *Source) OnRefresh(fn func(Refresh)) { s.observer.Store(&fn) }

// Token returns a valid access token, fetching a new one when the cached
// one has expired (or was invalidated). Its error is a *TokenError.
func (s *Source) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	src := s.src
	s.mu.Unlock()
	tok, err := src.Token()
	if err != nil {
		return nil, newTokenError(err)
	}
	return tok, nil
}

// Invalidate drops the cached token so that the next Token call fetches a
// new one: call it when an API answered 401 to a token not yet expired.
func (s *Source) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.src = s.build()
}

// TokenError is a failure to obtain an access token. Its text holds the
// OAuth error code and Google's description, never a secret nor the
// token endpoint's raw answer.
type TokenError struct {
	// Code is the OAuth error code ("invalid_grant", ...), "" when the
	// token endpoint could not be reached or gave none.
	Code string
	// Status is the token endpoint's HTTP status, 0 when not reached.
	Status int
	// Description is the endpoint's error_description, if any.
	Description string
	err         error
}

func newTokenError(err error) *TokenError {
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	te = &TokenError{err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te.Code, te.Description = re.ErrorCode, re.ErrorDescription
		if te.Code == "" {
			// The JWT flow leaves the answer unparsed.
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &body) == nil {
				te.Code, te.Description = body.Error, body.Description
			}
		}
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
	}
	return te
}

// Error describes the failure without any secret.
func (e *TokenError) Error() string {
	switch {
	case e.Revoked():
		return "credentials: the refresh token was refused (invalid_grant): it was revoked or has expired; create a new one and update credentials.json"
	case e.Code != "":
		msg := fmt.Sprintf("credentials: token endpoint refused the request: %s", e.Code)
		if e.Description != "" {
			msg += ": " + e.Description
		}
		return msg
	case e.Status != 0:
		return fmt.Sprintf("credentials: token endpoint answered %d %s", e.Status, http.StatusText(e.Status))
	}
	var re *oauth2.RetrieveError
	if errors.As(e.err, &re) {
		return "credentials: cannot fetch an access token"
	}
	return "credentials: cannot fetch an access token: " + e.err.Error()
}

// Unwrap returns the underlying error (an *oauth2.RetrieveError when the
// token endpoint answered). Its text may quote the endpoint's answer.
func (e *TokenError) Unwrap() error { return e.err }

// Revoked reports whether the token endpoint refused the grant itself
// (invalid_grant): the refresh token was revoked or expired, or the
// service account's key was deleted. Retrying cannot help until an
// operator fixes the credentials.
func (e *TokenError) Revoked() bool { return e.Code == "invalid_grant" }

// AsTokenError returns the token failure in err's chain, whether a
// *TokenError or a bare *oauth2.RetrieveError, as a *TokenError.
func AsTokenError(err error) (*TokenError, bool) {
	var te *TokenError
	if errors.As(err, &te) {
		return te, true
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return newTokenError(re), true
	}
	return nil, false
}

// IsRevoked reports whether err comes from a refresh token (or key) that
// Google no longer accepts: invalid_grant from the token endpoint.
func IsRevoked(err error) bool {
	te, ok := AsTokenError(err)
	return ok && te.Revoked()
}
