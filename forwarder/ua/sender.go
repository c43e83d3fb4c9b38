package ua

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/httpreply"
)

// DefaultEndpoint is Google's Universal Analytics collection host, which no
// longer processes hits; point Config.Endpoint at a UA-compatible collector.
const DefaultEndpoint = "https://www.google-analytics.com"

const (
	collectPath = "/collect"
	debugPath   = "/debug/collect"
	userAgent   = "callforward-ua"
	// defaultTimeout bounds one request when Config.HTTPClient is nil.
	defaultTimeout = 10 * time.Second
)

// Config configures a Sender. Every field has a usable zero value.
type Config struct {
	// Endpoint is the base URL, DefaultEndpoint when empty; the paths
	// /collect and /debug/collect are appended.
	Endpoint string
	// HTTPClient sends the requests; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// Now tells the time, time.Now when nil.
	Now func() time.Time
}

// Sender posts deliveries to a Measurement Protocol v1 collector. It is
// safe for concurrent use.
type Sender struct {
	endpoint string
	client   *http.Client
	now      func() time.Time
}

// NewSender returns a Sender for cfg, with defaults for the fields left
// empty.
func NewSender(cfg Config) *Sender {
	s := &Sender{
		endpoint: strings.TrimRight(cfg.Endpoint, "/"),
		client:   cfg.HTTPClient,
		now:      cfg.Now,
	}
	if s.endpoint == "" {
		s.endpoint = DefaultEndpoint
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: defaultTimeout}
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Send posts the UA hit of d to /collect. It returns nil on a 2xx reply and
// a classified error otherwise, by the policy every sender follows
// (httpreply.Decide): 401, 408, 429 and 5xx are RetryAfter when the
// collector names a wait and Transient otherwise, other 4xx Permanent,
// network failures Transient ("network"), a cancelled ctx Transient
// ("canceled"). Hits a collector could not record
// fail as Permanent before anything is sent (see BuildPayload).
func (s *Sender) Send(ctx context.Context, d forwarder.Delivery) error {
	return s.post(ctx, "ua: send", collectPath, d, func(io.Reader) error { return nil })
}

// post builds the request for d, posts it to path and hands a 2xx body to
// onOK; any other outcome is classified here.
func (s *Sender) post(ctx context.Context, op, path string, d forwarder.Delivery, onOK func(io.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return forwarder.Transient("canceled", fmt.Errorf("%s: %w", op, err))
	}
	now := s.now()
	params, err := BuildPayload(d, now)
	if err != nil {
		return err
	}
	red := redactor{clientID: d.UA.ClientID}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+path, strings.NewReader(encode(params)))
	if err != nil {
		return forwarder.Permanent("bad_endpoint", fmt.Errorf("%s: build request: %w", op, err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", userAgent)

	return httpreply.Do(ctx, s.client, req, op, red.string, nil, now, onOK)
}
