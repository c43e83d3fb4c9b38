// Package httpapi is the HTTP face of the forwarder: the Fone Dynamics
// webhook endpoint, health and readiness probes. It authenticates, limits
// and decodes requests, hands calls to the ingest service, keeps every
// refused request for inspection, and maps outcomes to status codes in one
// place (reply.go).
//
// A 200 is sent only after the call is durable in the store; anything that
// prevents that is a 503 so the sender tries again.
package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/webhook"
)

// WebhookPath is where Fone Dynamics sends its webhooks.
const WebhookPath = "/webhooks/fonedynamics"

// DefaultMaxBody is the largest webhook body accepted (64 KiB); a real
// webhook is about 2 KiB.
const DefaultMaxBody = 64 << 10

// Ingester plans and stores a decoded call.
type Ingester interface {
	Ingest(ctx context.Context, call *forwarder.Call) (ingest.Result, error)
}

// Rejecter keeps a refused request.
type Rejecter interface {
	Reject(ctx context.Context, r store.Rejected) error
}

// Pinger reports whether the store can take writes.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config configures the handler.
type Config struct {
	// Tokens are the webhook tokens accepted (several during rotation).
	Tokens []string
	// NoAuth accepts requests without a token. Only for local testing.
	NoAuth bool
	// MaxBody bounds a request body (default DefaultMaxBody).
	MaxBody int64
	Logger  *slog.Logger
}

// Handler serves the forwarder's HTTP endpoints.
type Handler struct {
	cfg    Config
	tokens tokenSet
	in     Ingester
	rej    Rejecter
	ready  Pinger
	log    *slog.Logger
	engine *gin.Engine
}

// New builds the handler.
func New(cfg Config, in Ingester, rej Rejecter, ready Pinger) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, tokens: newTokenSet(cfg.Tokens), in: in, rej: rej, ready: ready, log: cfg.Logger}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(h.recoverPanic)
	e.GET(WebhookPath, h.webhook)
	e.POST(WebhookPath, h.webhook)
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.NoRoute(func(c *gin.Context) { c.JSON(http.StatusNotFound, errorReply{Error: "no such endpoint"}) })
	e.NoMethod(func(c *gin.Context) {
		c.JSON(http.StatusMethodNotAllowed, errorReply{Error: "method not allowed: use GET or POST"})
	})
	h.engine = e
	return h
}

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

func (h *Handler) webhook(c *gin.Context) {
	r := c.Request
	if !h.cfg.NoAuth && !h.tokens.valid(requestToken(r)) {
		h.log.WarnContext(c, "webhook unauthorized", "remote", c.ClientIP())
		c.Header("WWW-Authenticate", `Bearer realm="callforward"`)
		c.JSON(http.StatusUnauthorized, errorReply{Error: "missing or invalid token"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log.WarnContext(c, "webhook rejected", "status", http.StatusRequestEntityTooLarge, "limit", h.cfg.MaxBody)
			c.JSON(http.StatusRequestEntityTooLarge, errorReply{Error: "request body is larger than the limit", Field: "body"})
			return
		}
		h.log.WarnContext(c, "webhook body unreadable", "err", err)
		c.JSON(http.StatusBadRequest, errorReply{Error: "request body could not be read", Field: "body"})
		return
	}
	ct := r.Header.Get("Content-Type")
	params, err := webhook.Params(r.Method, ct, r.URL.RawQuery, body)
	if err == nil {
		var call *forwarder.Call
		if call, err = webhook.Decode(params); err == nil {
			h.ingest(c, call)
			return
		}
	}
	h.reject(c, err, body)
}

func (h *Handler) ingest(c *gin.Context, call *forwarder.Call) {
	res, err := h.in.Ingest(c, call)
	if err != nil {
		h.log.ErrorContext(c, "webhook not stored", "call_sid", call.Sid, "err", err)
		c.JSON(http.StatusServiceUnavailable, errorReply{Error: "the call could not be stored; try again"})
		return
	}
	c.JSON(http.StatusOK, res)
}

// reject answers a request that could not be decoded and keeps it.
func (h *Handler) reject(c *gin.Context, err error, body []byte) {
	status, rep := rejectReply(err)
	r := c.Request
	rec := store.Rejected{
		Status:      status,
		Reason:      rep.Error,
		Field:       rep.Field,
		Method:      r.Method,
		Query:       stripToken(r.URL.RawQuery),
		ContentType: r.Header.Get("Content-Type"),
		Body:        body,
	}
	if serr := h.rej.Reject(c, rec); serr != nil {
		h.log.ErrorContext(c, "rejected request not kept", "err", serr)
	}
	h.log.WarnContext(c, "webhook rejected", "status", status, "field", rep.Field)
	c.JSON(status, rep)
}

func (h *Handler) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (h *Handler) readyz(c *gin.Context) {
	if err := h.ready.Ping(c); err != nil {
		h.log.WarnContext(c, "not ready", "err", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
