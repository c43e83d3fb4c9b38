package httpapi

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/failpoint"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/webhook"
)

// webhook runs the checks listed in the package comment, in that order,
// then decodes and ingests the call.
func (h *Handler) webhook(c *gin.Context) {
	r := c.Request
	ip := clientIP(r, h.proxies)
	if !h.admit(c, ip) {
		return
	}
	if !h.takeTurn(c) {
		return
	}
	defer func() { <-h.turns }()
	body, ok := h.readBody(c)
	if !ok {
		return
	}
	if h.sig != nil {
		if problem := h.sig.verify(r, body); problem != "" {
			h.log.WarnContext(c, "webhook signature refused", "remote", remote(ip))
			c.JSON(http.StatusUnauthorized, errorReply{Error: problem, Field: h.sig.header})
			return
		}
	}
	if body, ok = h.decodeBody(c, body); !ok {
		return
	}
	decoded := h.traceDecode(c)
	params, err := webhook.Params(r.Method, r.Header.Get("Content-Type"), r.URL.RawQuery, body)
	if err == nil {
		var call *forwarder.Call
		if call, err = webhook.Decode(params); err == nil {
			decoded(nil)
			h.ingest(c, call)
			return
		}
	}
	decoded(err)
	h.reject(c, err, body)
}

// admit runs the checks that need no body: client address, token, rate
// limit. It answers and returns false when one fails.
func (h *Handler) admit(c *gin.Context, ip netip.Addr) bool {
	if len(h.allow) > 0 && !h.allow.contains(ip) {
		h.log.WarnContext(c, "webhook forbidden", "remote", remote(ip))
		c.JSON(http.StatusForbidden, errorReply{Error: "client address not allowed"})
		return false
	}
	key := 0
	if !h.cfg.NoAuth {
		if key = h.tokens.match(requestToken(c.Request)); key < 0 {
			h.log.WarnContext(c, "webhook unauthorized", "remote", remote(ip))
			c.Header("WWW-Authenticate", `Bearer realm="callforward"`)
			c.JSON(http.StatusUnauthorized, errorReply{Error: "missing or invalid token"})
			return false
		}
	}
	if wait, ok := h.limits.allow(key, time.Now()); !ok {
		secs := strconv.FormatInt(retryAfter(wait), 10)
		h.log.WarnContext(c, "webhook rate limited", "remote", remote(ip), "token_index", key, "retry_after_s", secs)
		c.Header("Retry-After", secs)
		c.JSON(http.StatusTooManyRequests, errorReply{Error: "too many requests for this token; retry after " + secs + "s"})
		return false
	}
	return true
}

// takeTurn waits for one of the MaxInFlight turns, at most InFlightWait
// (less when the client goes away). It answers 503 with Retry-After and
// returns false when it got none; otherwise the caller gives the turn
// back (<-h.turns) when it has answered.
func (h *Handler) takeTurn(c *gin.Context) bool {
	select {
	case h.turns <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(h.cfg.InFlightWait)
	defer t.Stop()
	select {
	case h.turns <- struct{}{}:
		return true
	case <-t.C:
	case <-c.Request.Context().Done():
	}
	h.log.WarnContext(c, "webhook refused: too many in progress", "limit", cap(h.turns), "waited", h.cfg.InFlightWait.String())
	c.Header("Retry-After", "1")
	c.JSON(http.StatusServiceUnavailable, errorReply{Error: "too many webhooks in progress; retry after 1s"})
	return false
}

// readBody reads the body up to the limit, answering 413 past it (from
// Content-Length when the client declares it, without reading).
func (h *Handler) readBody(c *gin.Context) ([]byte, bool) {
	r := c.Request
	if r.ContentLength > h.cfg.MaxBody {
		h.tooLarge(c)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, h.cfg.MaxBody))
	if err != nil {
		if _, big := errors.AsType[*http.MaxBytesError](err); big {
			h.tooLarge(c)
			return nil, false
		}
		h.log.WarnContext(c, "webhook body unreadable", "err", err)
		c.JSON(http.StatusBadRequest, errorReply{Error: "request body could not be read", Field: "body"})
		return nil, false
	}
	return body, true
}

// decodeBody undoes the request's Content-Encoding: none or identity
// leave the body as it is, gzip is decoded up to the body limit (the
// limit applies to the decoded body, so a small bomb gets 413), anything
// else is a 415. It answers and returns false when it cannot decode.
func (h *Handler) decodeBody(c *gin.Context, body []byte) ([]byte, bool) {
	var codings []string
	for _, v := range c.Request.Header.Values("Content-Encoding") {
		for coding := range strings.SplitSeq(v, ",") {
			if coding = strings.ToLower(strings.TrimSpace(coding)); coding != "" && coding != "identity" {
				codings = append(codings, coding)
			}
		}
	}
	if len(codings) == 0 || len(body) == 0 {
		return body, true
	}
	if len(codings) > 1 || (codings[0] != "gzip" && codings[0] != "x-gzip") {
		h.log.WarnContext(c, "webhook rejected", "status", http.StatusUnsupportedMediaType, "field", "Content-Encoding")
		c.JSON(http.StatusUnsupportedMediaType, errorReply{Error: "unsupported Content-Encoding " + strconv.Quote(strings.Join(codings, ", ")) + ": send the body as it is or gzip-compressed", Field: "Content-Encoding"})
		return nil, false
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(zr, h.cfg.MaxBody+1))
	}
	switch {
	case err != nil:
		h.log.WarnContext(c, "webhook rejected", "status", http.StatusBadRequest, "field", "Content-Encoding", "err", err)
		c.JSON(http.StatusBadRequest, errorReply{Error: "the body is not valid gzip", Field: "Content-Encoding"})
		return nil, false
	case int64(len(body)) > h.cfg.MaxBody:
		h.tooLarge(c)
		return nil, false
	}
	return body, true
}

func (h *Handler) tooLarge(c *gin.Context) {
	h.log.WarnContext(c, "webhook rejected", "status", http.StatusRequestEntityTooLarge, "limit", h.cfg.MaxBody)
	// The rest of the body is not wanted: do not keep the connection for it.
	c.Header("Connection", "close")
	c.JSON(http.StatusRequestEntityTooLarge, errorReply{Error: "request body is larger than the limit of " + strconv.FormatInt(h.cfg.MaxBody, 10) + " bytes", Field: "body"})
}

func (h *Handler) ingest(c *gin.Context, call *forwarder.Call) {
	res, err := h.in.Ingest(h.ingestContext(c, call), call)
	if err != nil {
		h.log.ErrorContext(c, "webhook not stored", "call_sid", call.Sid, "err", err)
		c.JSON(http.StatusServiceUnavailable, errorReply{Error: "the call could not be stored; try again"})
		return
	}
	h.traceIngested(c, string(res.Status))
	for _, d := range call.Dropped {
		// Only the documented names: any other was chosen by the client
		// and could be personal data, or grow the metric without bound.
		field := d.Field
		if !webhook.IsField(field) {
			field = otherField
		}
		h.drops.FieldDropped(field)
		h.log.WarnContext(c, "webhook field dropped", "call_sid", call.Sid, "field", field, "reason", d.Reason)
	}
	failpoint.Hit(failpoint.AfterAcceptBeforeReply)
	c.JSON(http.StatusOK, acceptReply{Result: res, Dropped: call.Dropped})
}

// reject answers a request that could not be decoded and keeps it, with
// every configured token redacted wherever the sender put one.
func (h *Handler) reject(c *gin.Context, err error, body []byte) {
	status, rep := rejectReply(err)
	r := c.Request
	rec := store.Rejected{
		Status:      status,
		Reason:      rep.Error,
		Field:       rep.Field,
		Method:      r.Method,
		Query:       string(redact([]byte(stripToken(r.URL.RawQuery)), h.secrets)),
		ContentType: r.Header.Get("Content-Type"),
		Body:        redact(body, h.secrets),
	}
	if serr := h.rej.Reject(c, rec); serr != nil {
		h.log.ErrorContext(c, "rejected request not kept", "err", serr)
	}
	h.log.WarnContext(c, "webhook rejected", "status", status, "field", logField(rep.Field))
	c.JSON(status, rep)
}

// remote renders a client address for a log line.
func remote(ip netip.Addr) string {
	if !ip.IsValid() {
		return "unknown"
	}
	return ip.String()
}

// otherField stands for a parameter name that is not shown.
const otherField = "(other)"

// logField returns a FieldError's field for a log line when it has the
// shape of a parameter name (letters, digits, '.', '-', '_', at most 64
// bytes, no run of five digits), and "(other)" otherwise: the name is
// chosen by the client and could be a phone number, a client id or a
// click id.
func logField(f string) string {
	if len(f) > 64 {
		return otherField
	}
	digits := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c >= '0' && c <= '9':
			if digits++; digits >= 5 {
				return otherField
			}
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '-', c == '_':
		default:
			return otherField
		}
		digits = 0
	}
	return f
}
