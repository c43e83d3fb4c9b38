package ga4

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/httpreply"
)

// Endpoints of the Measurement Protocol.
const (
	// DefaultEndpoint is Google's global collection host.
	DefaultEndpoint = "https://www.google-analytics.com"
	// EUEndpoint collects and processes the data in the EU.
	EUEndpoint = "https://region1.google-analytics.com"
)

const (
	collectPath = "/mp/collect"
	debugPath   = "/debug/mp/collect"
	userAgent   = "callforward-ga4"
	// defaultTimeout bounds one request when Config.HTTPClient is nil.
	defaultTimeout = 10 * time.Second
)

// Config configures a Sender. The zero value of every field but Secrets
// has a usable default.
type Config struct {
	// Endpoint is the base URL, DefaultEndpoint when empty; the paths
	// /mp/collect and /debug/mp/collect are appended.
	Endpoint string
	// Secrets holds the API secret of each measurement id.
	Secrets map[string]string
	// HTTPClient sends the requests; a client with a 10 s timeout when nil.
	HTTPClient *http.Client
	// Now tells the time, time.Now when nil.
	Now func() time.Time
}

// Sender posts deliveries to the Measurement Protocol. It is safe for
// concurrent use.
type Sender struct {
	endpoint string
	secrets  map[string]string
	// queries holds the encoded query string of each measurement id and
	// its secret, built once rather than for every request.
	queries map[string]string
	client  *http.Client
	now     func() time.Time
}

// NewSender returns a Sender for cfg, with defaults for the fields left
// empty. It keeps a copy of cfg.Secrets.
func NewSender(cfg Config) *Sender {
	s := &Sender{
		endpoint: strings.TrimRight(cfg.Endpoint, "/"),
		secrets:  maps.Clone(cfg.Secrets),
		client:   cfg.HTTPClient,
		now:      cfg.Now,
	}
	if s.endpoint == "" {
		s.endpoint = DefaultEndpoint
	}
	s.queries = make(map[string]string, len(s.secrets))
	for mid, secret := range s.secrets {
		s.queries[mid] = query(mid, secret)
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: defaultTimeout}
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Send posts the GA4 event of d to /mp/collect. It returns nil on a 2xx
// reply and a classified error otherwise, by the policy every sender
// follows (httpreply.Decide): 401, 408, 429 and 5xx are RetryAfter when
// Google names a wait and Transient otherwise, other 4xx Permanent,
// network failures Transient ("network"), a cancelled ctx Transient
// ("canceled"). Deliveries Google could not record fail as Permanent
// before anything is sent.
func (s *Sender) Send(ctx context.Context, d forwarder.Delivery) error {
	return s.SendBatch(ctx, []forwarder.Delivery{d})[0]
}

// SendBatch posts the events of ds to /mp/collect, as few requests as
// GA4 allows: deliveries with equal BatchKey share requests of at most
// MaxBatch events and fewer than MaxBodyBytes bytes. It returns one error
// per delivery, index-aligned, classified as in Send: a request's reply
// applies to the deliveries it carried and to no other, and a delivery
// Google could not record fails alone before anything is sent.
func (s *Sender) SendBatch(ctx context.Context, ds []forwarder.Delivery) []error {
	now := s.now()
	reqs, errs := s.plan(opSend, ds, now)
	for _, r := range reqs {
		err := s.post(ctx, opSend, collectPath, r, now, func(io.Reader) error { return nil })
		for _, i := range r.idx {
			errs[i] = err
		}
	}
	return errs
}

// BatchLimits tells the delivery workers to gather at most MaxBatch
// events for one call of SendBatch and to wait at most BatchWindow for
// them.
func (s *Sender) BatchLimits() (maxSize int, window time.Duration) { return MaxBatch, BatchWindow }

// BatchKey implements the delivery workers' batch capability: deliveries
// with equal keys may share a request (see the package function BatchKey).
func (s *Sender) BatchKey(d forwarder.Delivery) string { return BatchKey(d) }

// Operations named in error texts.
const (
	opSend     = "ga4: send"
	opValidate = "ga4: validate"
)

// post posts the body of r to path and hands a 2xx body to onOK; any
// other outcome is classified here.
func (s *Sender) post(ctx context.Context, op, path string, r request, now time.Time, onOK func(io.Reader) error) error {
	if err := ctx.Err(); err != nil {
		return forwarder.Transient("canceled", fmt.Errorf("%s: %w", op, err))
	}
	red := redactor{secret: r.secret, clientID: r.clientID}
	q, ok := s.queries[r.mid]
	if !ok || s.secrets[r.mid] != r.secret {
		q = query(r.mid, r.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+path+"?"+q, bytes.NewReader(r.body))
	if err != nil {
		return forwarder.Permanent("bad_endpoint", fmt.Errorf("%s: build request: %w", op, red.error(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)

	return httpreply.Do(ctx, s.client, req, op, red.string, red.error, now, onOK)
}

// query is the encoded query string of a request for measurement id mid.
func query(mid, secret string) string {
	return url.Values{"measurement_id": {mid}, "api_secret": {secret}}.Encode()
}
