// Package console is the web console: server-rendered pages for the people
// who run the forwarder and read what it did (marketers, ad managers),
// served by `serve` on the admin listener beside the read API, never on
// the webhook port.
//
// Every page is built from the masked views of package callview, the ones
// the read API returns: no page shows more personal data than the API. The
// pages are html/template, work without JavaScript, and load nothing but
// the console's own stylesheet (embedded in the binary); a strict
// Content-Security-Policy forbids everything else, inline scripts and
// styles included.
//
// Logging in takes an admin token from credentials.json; the session is a
// signed cookie (see session.go for the design), and every form that
// changes something carries the session's CSRF token.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/callforward/callforward/forwarder/callview"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the console reads and changes (store.Store has it).
type Store interface {
	callview.Reader
	DeadLetters(ctx context.Context, limit int) ([]store.DeadLetter, error)
	RetryDead(ctx context.Context, id string) error
	DropDead(ctx context.Context, id string) error
	Stats(ctx context.Context) (store.Stats, error)
	PollStats(ctx context.Context) (store.PollStats, error)
	Tallies(ctx context.Context) (store.Tallies, error)
}

// Status is what the running forwarder knows of itself, beyond the store:
// it is this instance's view (another instance behind the same load
// balancer may have reloaded its rules at another time).
type Status struct {
	Rules  RulesStatus
	Google GoogleStatus
	// Webhooks counts the webhooks this instance stored since it started,
	// by result (accepted, duplicate, ignored).
	Webhooks map[string]int
	// Started is when this instance started.
	Started time.Time
}

// RulesStatus is the rules file in force and its reloads.
type RulesStatus struct {
	Path string
	// SHA256 is the hash of the file in force (hex, shortened).
	SHA256   string
	LoadedAt time.Time
	// Source is the content of the file in force.
	Source []byte
	// RefusedAt, RefusedSHA256 and RefusedReason describe the last reload
	// refused (zero when none was).
	RefusedAt     time.Time
	RefusedSHA256 string
	RefusedReason string
}

// GoogleStatus is what the forwarder knows of its access to Google.
type GoogleStatus struct {
	// Configured is false when credentials.json has no google section
	// (GA4 needs none).
	Configured bool
	// LastRefresh is when an access token was last fetched (zero: not
	// yet); RefreshError is why that fetch failed ("" when it worked).
	LastRefresh  time.Time
	RefreshError string
}

// Config configures the console.
type Config struct {
	Store Store
	// Rules returns the rules in force.
	Rules func() *mapping.Rules
	// Status returns the forwarder's own status (nil: nothing known).
	Status func() Status
	// Tokens are the admin tokens that may log in.
	Tokens []credentials.AdminToken
	// SecureCookies marks the cookies Secure on every request, not only
	// on TLS ones (set it behind a proxy that terminates TLS).
	SecureCookies bool
	Logger        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

type console struct {
	cfg   Config
	log   *slog.Logger
	sign  *signer
	pages map[string]*template.Template

	overviewMu  sync.Mutex
	overviewFig *figures // the overview's last figures; guarded by overviewMu
}

// New returns the console's handler, to be mounted at the root of the
// admin listener.
func New(cfg Config) (http.Handler, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Status == nil {
		cfg.Status = func() Status { return Status{} }
	}
	if cfg.Rules == nil {
		cfg.Rules = func() *mapping.Rules { return nil }
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &console{cfg: cfg, log: cfg.Logger, sign: newSigner(cfg.Tokens), pages: pages}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", c.loginForm)
	mux.HandleFunc("POST /login", c.login)
	mux.Handle("POST /logout", c.authed(c.logout))
	mux.Handle("GET /{$}", c.authed(c.overview))
	mux.Handle("GET /calls", c.authed(c.calls))
	mux.Handle("GET /calls/{sid}", c.authed(c.call))
	mux.Handle("GET /deadletters", c.authed(c.deadLetters))
	mux.Handle("POST /deadletters", c.authed(c.deadLetterAction))
	mux.Handle("GET /rules", c.authed(c.rules))
	mux.Handle("POST /rules", c.authed(c.tryWebhook))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "Not found", Message: "There is no such page."})
	})
	return secureHeaders(mux), nil
}

// contentSecurityPolicy allows the console's own stylesheet and images,
// and nothing else: no script at all, no inline style, no frame.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets the security headers of every answer.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// sessionKey is the context key of a request's session.
type sessionKey struct{}

// authed lets through requests with a valid session: a page asked for
// without one redirects to the login form; a form posted without one, or
// without its CSRF token, is refused.
func (c *console) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, ok := c.session(r)
		if !ok {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.render(w, r, http.StatusForbidden, "error", page{Title: "Not logged in", Message: "Your session has ended. Log in again and repeat what you did."})
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !c.sign.checkCSRF(ss, r.PostFormValue("csrf")) {
				c.log.Warn("console: form refused: missing or wrong CSRF token", "token_label", ss.Label, "path", r.URL.Path)
				c.render(w, r, http.StatusForbidden, "error", page{Title: "Form refused", Message: "This form is not valid any more (it has no security token or one from another session). Open the page again and repeat what you did."})
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, ss)))
	})
}

// maxForm bounds a posted form (a pasted webhook is at most 64 KiB).
const maxForm = 256 << 10

func (c *console) session(r *http.Request) (session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	return c.sign.check(ck.Value, c.cfg.Now())
}

func (c *console) secure(r *http.Request) bool { return c.cfg.SecureCookies || r.TLS != nil }

func (c *console) setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode,
	})
}

func (c *console) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := c.session(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.showLogin(w, r, http.StatusOK, "")
}

// showLogin renders the login form with a fresh double-submit token (the
// login form has no session to tie a CSRF token to: the token is both in
// a cookie and in the form, and the two must match).
func (c *console) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := randomToken()
	c.setCookie(w, r, loginCookie, tok, "/login", 600)
	c.render(w, r, status, "login", page{Title: "Log in", CSRF: tok, Message: msg, Next: safeNext(r.FormValue("next"))})
}

func (c *console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" || r.PostFormValue("csrf") != ck.Value {
		c.log.Warn("console: login form refused: missing or wrong CSRF token", "remote", r.RemoteAddr)
		c.showLogin(w, r, http.StatusForbidden, "The login form had expired. Please try again.")
		return
	}
	label := tokenLabel(c.cfg.Tokens, r.PostFormValue("token"))
	if label == "" {
		c.log.Warn("console: login refused: wrong admin token", "remote", r.RemoteAddr)
		c.showLogin(w, r, http.StatusUnauthorized, "That admin token is not valid.")
		return
	}
	value, _ := c.sign.issue(label, c.cfg.Now())
	c.setCookie(w, r, sessionCookie, value, "/", int(SessionTTL/time.Second))
	c.setCookie(w, r, loginCookie, "", "/login", -1)
	c.log.Info("console: logged in", "token_label", label, "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (c *console) logout(w http.ResponseWriter, r *http.Request) {
	c.setCookie(w, r, sessionCookie, "", "/", -1)
	c.log.Info("console: logged out", "token_label", sessionOf(r).Label)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext is a local path to go to after logging in ("/" for anything
// else, so that the login form cannot send anyone to another site).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/login") {
		return "/"
	}
	return next
}

func sessionOf(r *http.Request) session {
	ss, _ := r.Context().Value(sessionKey{}).(session)
	return ss
}

// fail answers 500 and logs the store's error.
func (c *console) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	c.log.Error("console: store failed", "path", r.URL.Path, "err", err)
	c.render(w, r, http.StatusInternalServerError, "error", page{Title: "The store failed", Message: "The forwarder could not read its store; see its log."})
}
