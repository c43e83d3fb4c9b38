// Package httpapi is the HTTP face of the forwarder: the Fone Dynamics
// webhook endpoint, health and readiness probes. It authenticates, limits
// and decodes requests, hands calls to the ingest service, keeps every
// refused request for inspection, and maps outcomes to status codes in one
// place (reply.go).
//
// A 200 is sent only after the call is durable in the store; anything that
// prevents that is a 503 so the sender tries again.
//
// # Checks on a webhook
//
// They run cheapest and least trusting first, and each refuses with a
// JSON {"error": ...} body:
//
//  1. the client address against Config.AllowCIDRs (403), the address
//     being the TCP peer unless that peer is a trusted proxy (clientip.go);
//  2. the token (401), compared in constant time (auth.go);
//  3. the token's rate limit (429 with Retry-After), before reading the
//     body (ratelimit.go);
//  4. a turn among Config.MaxInFlight webhooks in progress, waited for
//     at most Config.InFlightWait (503 with Retry-After), so that the
//     bodies and plans held in memory are bounded however many
//     connections send at once;
//  5. the body size (413), from Content-Length first, then while reading;
//  6. the body signature, when a secret is configured (401, naming the
//     header; signature.go), over the body as sent;
//  7. the Content-Encoding: gzip is decoded, and the size limit applies
//     to the decoded body (413, so a small gzip bomb is refused); another
//     encoding is a 415, a body that is not gzip a 400;
//  8. decoding (400, or 415 for the Content-Type; the request is kept).
//     A malformed optional field does not refuse the call: it is left
//     out, and the 200's "dropped" list, the stored call, a log line and
//     Config.Drops say which and why.
//
// Requests refused before step 8 are not kept: they come from someone who
// is not the configured sender, and keeping them would let anyone fill the
// store.
//
// # Routing
//
// The webhook has one spelling. A trailing slash, a doubled slash, a dot
// segment or a percent-encoded path is a 404 rather than a redirect or a
// silent match: a misconfigured sender sees it at once, and no path
// normalisation in a proxy in front can disagree with this one about which
// endpoint was asked for. Methods other than GET and POST are a 405 with an
// Allow header.
//
// # Slow clients
//
// Slow or stalled connections are the http.Server's to cut off; NewServer
// builds one with the timeouts this handler is meant to run behind.
//
// # Traces
//
// With Config.TracerProvider set, each webhook is a server span (continuing
// the sender's trace when it sends a W3C traceparent) with a child for
// decoding; ingest adds rules evaluation and the store's Accept. The span
// records the outcome (callforward.result) and the Call.Sid, never a
// token, a phone number, a client id or a GCLID (trace.go).
//
// # Logs
//
// One line per refusal, with the client address and, for a decoding
// failure, the parameter at fault; never a token, a phone number, a client
// id or a GCLID. A parameter name that could be one of those (it is sent by
// the client) is replaced by "(other)" in logs.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/store"
)

// WebhookPath is where Fone Dynamics sends its webhooks.
const WebhookPath = "/webhooks/fonedynamics"

// DefaultMaxBody is the largest webhook body accepted (64 KiB); a real
// webhook is about 2 KiB.
const DefaultMaxBody = 64 << 10

// DefaultMaxInFlight is how many webhooks are read, decoded and stored at
// once by default: far more than the store's group commit needs to fill
// its transactions, few enough that their bodies (at most DefaultMaxBody
// each, about 2 KiB for a real one) and plans stay a few MiB.
const DefaultMaxInFlight = 256

// DefaultInFlightWait is how long a webhook waits for a turn by default
// before it is answered 503.
const DefaultInFlightWait = 5 * time.Second

// Ingester plans and stores a decoded call.
type Ingester interface {
	Ingest(ctx context.Context, call *forwarder.Call) (ingest.Result, error)
}

// Rejecter keeps a refused request.
type Rejecter interface {
	Reject(ctx context.Context, r store.Rejected) error
}

// DropCounter counts the optional fields left out of stored calls
// (metrics implement it). field is a documented parameter name or
// "(other)".
type DropCounter interface {
	FieldDropped(field string)
}

type nopDrops struct{}

func (nopDrops) FieldDropped(string) {}

// Pinger reports whether the store can take writes.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Handler serves the forwarder's HTTP endpoints.
type Handler struct {
	cfg     Config
	tokens  tokenSet
	secrets [][]byte // the tokens, to redact them from kept requests
	allow   prefixes
	proxies prefixes
	limits  tokenLimits
	sig     *signature
	in      Ingester
	rej     Rejecter
	ready   Pinger
	drops   DropCounter
	log     *slog.Logger
	tracer  trace.Tracer // nil: tracing off
	engine  *gin.Engine
	// turns holds a token per webhook being read, decoded and stored
	// (Config.MaxInFlight).
	turns chan struct{}
}

// New builds the handler. Settings that Config.Validate reports are
// treated as off or default here.
func New(cfg Config, in Ingester, rej Rejecter, ready Pinger) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.InFlightWait <= 0 {
		cfg.InFlightWait = DefaultInFlightWait
	}
	h := &Handler{
		cfg:     cfg,
		tokens:  newTokenSet(cfg.Tokens),
		allow:   newPrefixes(cfg.AllowCIDRs),
		proxies: newPrefixes(cfg.TrustedProxies),
		in:      in,
		rej:     rej,
		ready:   ready,
		drops:   cfg.Drops,
		log:     cfg.Logger,
		turns:   make(chan struct{}, cfg.MaxInFlight),
	}
	if h.drops == nil {
		h.drops = nopDrops{}
	}
	for _, t := range cfg.Tokens {
		if t != "" {
			h.secrets = append(h.secrets, []byte(t))
		}
	}
	h.limits = newTokenLimits(cfg.RateLimit, cfg.RateBurst, len(h.tokens))
	if len(cfg.SignatureSecret) > 0 {
		header := cfg.SignatureHeader
		if !isHeaderName(header) {
			header = DefaultSignatureHeader
		}
		h.sig = &signature{secret: append([]byte(nil), cfg.SignatureSecret...), header: header}
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// Client addresses are worked out by clientIP, from trusted proxies
	// only; this keeps gin's own ClientIP from believing any header.
	_ = e.SetTrustedProxies(nil)
	e.ForwardedByClientIP = false
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = true
	e.Use(h.recoverPanic, h.canonicalPath)
	webhookChain := []gin.HandlerFunc{h.webhook}
	if cfg.TracerProvider != nil {
		h.tracer = cfg.TracerProvider.Tracer(tracerName)
		webhookChain = []gin.HandlerFunc{h.traceWebhook, h.webhook}
	}
	e.GET(WebhookPath, webhookChain...)
	e.POST(WebhookPath, webhookChain...)
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.NoRoute(noRoute)
	e.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, errorReply{Error: "method not allowed: use GET or POST"})
	})
	h.engine = e
	return h
}

// InFlight is the number of webhooks holding a turn at this moment
// (being read, decoded and stored; see Config.MaxInFlight): how busy
// intake is. The delivery workers yield to intake while it is high.
func (h *Handler) InFlight() int { return len(h.turns) }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.engine.ServeHTTP(w, r) }

func (h *Handler) recoverPanic(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			h.log.ErrorContext(c, "panic serving request", "path", c.FullPath(), "panic", v)
			c.AbortWithStatusJSON(http.StatusInternalServerError, errorReply{Error: "internal error"})
		}
	}()
	c.Next()
}

// canonicalPath refuses a path that matched a route only after
// percent-decoding ("/webhooks/%66onedynamics", "/webhooks%2Ffonedynamics").
func (h *Handler) canonicalPath(c *gin.Context) {
	if c.Request.URL.RawPath != "" {
		noRoute(c)
		c.Abort()
		return
	}
	c.Next()
}

func noRoute(c *gin.Context) {
	c.JSON(http.StatusNotFound, errorReply{Error: "no such endpoint"})
}

func (h *Handler) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (h *Handler) readyz(c *gin.Context) {
	if err := h.ready.Ping(c); err != nil {
		h.log.WarnContext(c, "not ready", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": err.Error()})
		return
	}
	problems := gin.H{}
	for _, ch := range h.cfg.Checks {
		if err := ch.Check(c); err != nil {
			problems[ch.Name] = err.Error()
		}
	}
	if len(problems) > 0 {
		h.log.WarnContext(c, "degraded", "checks", len(problems))
		c.JSON(http.StatusOK, gin.H{"status": "degraded", "problems": problems})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
