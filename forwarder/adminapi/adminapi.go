// Package adminapi is the read API: the calls, dead letters and counts
// the operator commands show, as JSON under /admin/api/, for dashboards
// and consoles. It is served on its own listener (serve --admin-listen),
// never on the webhook port, and every request needs an admin token from
// credentials.json. What it returns is built by package callview, the
// same masked views `forwarder calls` prints: no personal data in clear.
package adminapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder/callview"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

// Prefix is where the read API lives.
const Prefix = "/admin/api/"

// maxLimit bounds a page of calls or dead letters.
const maxLimit = 500

// Store is what the read API reads (store.Store has it).
type Store interface {
	callview.Reader
	DeadLetters(ctx context.Context, limit int) ([]store.DeadLetter, error)
	Stats(ctx context.Context) (store.Stats, error)
	PollStats(ctx context.Context) (store.PollStats, error)
	Tallies(ctx context.Context) (store.Tallies, error)
}

// Config configures the read API.
type Config struct {
	Store Store
	// Rules returns the rules in force (each call's rule verdicts are
	// evaluated under them); nil or returning nil: no verdicts.
	Rules func() *mapping.Rules
	// Tokens are the admin tokens accepted; none: every request is
	// refused.
	Tokens []credentials.AdminToken
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// token is an accepted admin token, kept as a hash so that every
// comparison has the same length.
type token struct {
	label string
	sum   [sha256.Size]byte
}

type api struct {
	cfg    Config
	log    *slog.Logger
	tokens []token
}

// New returns the read API's handler.
func New(cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &api{cfg: cfg, log: cfg.Logger}
	for _, t := range cfg.Tokens {
		a.tokens = append(a.tokens, token{label: t.Label, sum: sha256.Sum256([]byte(t.Token.Reveal()))})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"calls", a.calls)
	mux.HandleFunc("GET "+Prefix+"calls/{sid}", a.call)
	mux.HandleFunc("GET "+Prefix+"deadletters", a.deadLetters)
	mux.HandleFunc("GET "+Prefix+"overview", a.overview)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	return a.authenticate(mux)
}

// authenticate lets through requests bearing an admin token. Without a
// bearer token: 401 with WWW-Authenticate; with one that is not accepted:
// 403, the same answer whatever was wrong. Every token is compared, in
// constant time, whatever matched before.
func (a *api) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given, ok := bearer(r.Header.Get("Authorization"))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="callforward-admin"`)
			writeError(w, http.StatusUnauthorized, "an admin token is required (Authorization: Bearer ...)")
			a.log.Warn("admin api: request without a token", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			return
		}
		sum := sha256.Sum256([]byte(given))
		label := ""
		for _, t := range a.tokens {
			if subtle.ConstantTimeCompare(sum[:], t.sum[:]) == 1 {
				label = t.label
			}
		}
		if label == "" {
			writeError(w, http.StatusForbidden, "forbidden")
			a.log.Warn("admin api: token refused", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		a.log.Info("admin api", "token_label", label, "method", r.Method, "path", r.URL.Path, "status", rec.status)
	})
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// callsPage is the answer of GET /admin/api/calls.
type callsPage struct {
	Calls []callview.CallSummary `json:"calls"`
	// Next is the cursor of the next page ("" at the end): pass it as
	// ?cursor=. A page may be short, even empty, with a Next.
	Next string `json:"next,omitempty"`
}

func (a *api) calls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := callview.Query{
		Since: q.Get("since"), State: q.Get("state"), Rule: q.Get("rule"),
		Destination: q.Get("destination"), Sid: q.Get("sid"),
	}.Filter(a.cfg.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, err := limitParam(q.Get("limit"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	list, next, err := callview.List(r.Context(), a.cfg.Store, f, q.Get("cursor"), limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, callsPage{Calls: list, Next: next})
}

func (a *api) call(w http.ResponseWriter, r *http.Request) {
	var rules *mapping.Rules
	if a.cfg.Rules != nil {
		rules = a.cfg.Rules()
	}
	v, err := callview.Load(r.Context(), a.cfg.Store, rules, r.PathValue("sid"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such call")
		return
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// deadLetterGroup counts the dead letters of one kind, code and reason.
type deadLetterGroup struct {
	Kind   string `json:"kind"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// deadLetters is the answer of GET /admin/api/deadletters.
type deadLetters struct {
	Total       int                       `json:"total"`
	Groups      []deadLetterGroup         `json:"groups"`
	DeadLetters []callview.DeadLetterView `json:"dead_letters"`
}

func (a *api) deadLetters(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind != "" && kind != store.DeadSend && kind != store.DeadProcessing {
		writeError(w, http.StatusBadRequest, "kind: want send or processing")
		return
	}
	limit, err := limitParam(q.Get("limit"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	t, err := a.cfg.Store.Tallies(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := deadLetters{Groups: []deadLetterGroup{}, DeadLetters: []callview.DeadLetterView{}}
	all := 0
	for _, g := range t.DeadGroups {
		all += g.Count
		if kind != "" && g.Kind != kind {
			continue
		}
		out.Total += g.Count
		out.Groups = append(out.Groups, deadLetterGroup{Kind: g.Kind, Code: g.Code, Reason: g.Reason, Count: g.Count})
	}
	// The newest dead letters, a bounded read: with a kind, those of the
	// newest deadKindScan times limit (all of them when the kind is every
	// dead letter).
	read := limit
	if kind != "" && out.Total < all {
		read = limit * deadKindScan
	}
	newest, err := a.cfg.Store.DeadLetters(r.Context(), read)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for _, d := range newest {
		v := callview.NewDeadLetterView(d)
		if (kind == "" || v.Kind == kind) && len(out.DeadLetters) < limit {
			out.DeadLetters = append(out.DeadLetters, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// deadKindScan bounds the dead letters read for a list of one kind: at
// most this many times the limit.
const deadKindScan = 4

// overview is the answer of GET /admin/api/overview.
type overview struct {
	Store store.Stats `json:"store"`
	// Polls counts the Data Manager requests awaiting Google's report.
	Polls store.PollStats `json:"polls"`
}

func (a *api) overview(w http.ResponseWriter, r *http.Request) {
	var out overview
	var err error
	if out.Store, err = a.cfg.Store.Stats(r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	if out.Polls, err = a.cfg.Store.PollStats(r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// fail answers 500 and logs the store's error.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("admin api: store failed", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "the store failed; see the forwarder's log")
}

// limitParam reads ?limit= (default callview.DefaultLimit, at most
// maxLimit).
func limitParam(s string) (int, error) {
	if s == "" {
		return callview.DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, errors.New("limit: want a positive number")
	}
	return min(n, maxLimit), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
