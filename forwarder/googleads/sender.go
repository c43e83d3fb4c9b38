package googleads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
	"golang.org/x/oauth2"
	"google.golang.org/api/datamanager/v1"
	"google.golang.org/api/option"
)

// Defaults of Config.
const (
	DefaultDataManagerEndpoint = "https://datamanager.googleapis.com/"
	DefaultGoogleAdsEndpoint   = "https://googleads.googleapis.com/"
	// DefaultAPIVersion is the Google Ads API version; each lives about a
	// year, so it needs a bump at least yearly.
	DefaultAPIVersion = "v26"
	// MaxBatch is the most conversions one request carries, for both APIs.
	MaxBatch = 2000
	// defaultTimeout bounds one request when Config.HTTPClient is nil:
	// answers for 2,000 rows can be slow.
	defaultTimeout = 60 * time.Second
	// futureSkew is how far ahead of the clock a conversion may be dated.
	futureSkew = 10 * time.Minute
)

// Config configures a Sender. Only the token source of each backend in
// use is required; the other fields have defaults.
type Config struct {
	// DataManagerEndpoint is the Data Manager API base URL.
	DataManagerEndpoint string
	// GoogleAdsEndpoint is the Google Ads API base URL.
	GoogleAdsEndpoint string
	// APIVersion is the Google Ads API version, such as "v26".
	APIVersion string
	// TokenSource gives tokens with the datamanager scope, for the Data
	// Manager backend (nil: that backend is not configured).
	TokenSource oauth2.TokenSource
	// AdsTokenSource gives tokens with the adwords scope, for the Google
	// Ads API backend (nil: that backend is not configured).
	AdsTokenSource oauth2.TokenSource
	// DeveloperToken is sent as the developer-token header to the Google
	// Ads API, only when set.
	DeveloperToken string
	// ValidateOnly asks both APIs to validate without recording anything.
	ValidateOnly bool
	// HTTPClient sends the requests; its transport is wrapped to add the
	// access token. A client with a 60 s timeout when nil.
	HTTPClient *http.Client
	// Now tells the time, time.Now when nil.
	Now func() time.Time
}

// Sender sends Google Ads conversions. It is safe for concurrent use.
type Sender struct {
	cfg Config
	dm  *datamanager.Service
	// ingest posts the events:ingest bodies AppendIngestRequest writes,
	// as dm would.
	dmIngest  ingestClient
	adsClient *http.Client
	now       func() time.Time
}

// NewSender returns a Sender for cfg. ctx is only used to build the Data
// Manager client.
func NewSender(ctx context.Context, cfg Config) (*Sender, error) {
	if cfg.TokenSource == nil && cfg.AdsTokenSource == nil {
		return nil, errors.New("googleads: no token source: give TokenSource (data_manager) or AdsTokenSource (google_ads_api)")
	}
	if cfg.DataManagerEndpoint == "" {
		cfg.DataManagerEndpoint = DefaultDataManagerEndpoint
	}
	if cfg.GoogleAdsEndpoint == "" {
		cfg.GoogleAdsEndpoint = DefaultGoogleAdsEndpoint
	}
	cfg.DataManagerEndpoint = strings.TrimRight(cfg.DataManagerEndpoint, "/") + "/"
	cfg.GoogleAdsEndpoint = strings.TrimRight(cfg.GoogleAdsEndpoint, "/")
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	s := &Sender{cfg: cfg, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.TokenSource != nil {
		client := authClient(cfg.HTTPClient, cfg.TokenSource)
		dm, err := datamanager.NewService(ctx,
			option.WithEndpoint(cfg.DataManagerEndpoint),
			option.WithHTTPClient(client),
			// The client library logs request bodies at debug level when
			// asked to by the environment; they hold personal data.
			option.WithLogger(slog.New(slog.DiscardHandler)),
		)
		if err != nil {
			return nil, fmt.Errorf("googleads: data manager client: %w", err)
		}
		s.dm = dm
		if s.dmIngest, err = newIngestClient(ctx, dm, client); err != nil {
			return nil, err
		}
	}
	if cfg.AdsTokenSource != nil {
		s.adsClient = authClient(cfg.HTTPClient, cfg.AdsTokenSource)
	}
	return s, nil
}

// DataManager is the sender's Data Manager client (its endpoint and token
// source), for asking Google about the requests it accepted; nil when the
// backend is not configured.
func (s *Sender) DataManager() *datamanager.Service { return s.dm }

// authClient returns a copy of base (or a default client) whose transport
// adds a bearer token from ts.
func authClient(base *http.Client, ts oauth2.TokenSource) *http.Client {
	c := &http.Client{Timeout: defaultTimeout}
	if base != nil {
		cp := *base
		c = &cp
	}
	tr := c.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	c.Transport = &oauth2.Transport{Source: ts, Base: tr}
	return c
}

// BatchKey returns the key of deliveries that may share a request: same
// backend, customer, login customer and kind. Deliveries without Ads get
// "".
func BatchKey(d forwarder.Delivery) string {
	a := d.Ads
	if a == nil {
		return ""
	}
	return strings.Join([]string{a.Backend, a.CustomerID, a.LoginCustomerID, a.Kind}, "|")
}

// Send sends one delivery; see SendBatch for the outcomes.
func (s *Sender) Send(ctx context.Context, d forwarder.Delivery) error {
	return s.SendBatch(ctx, []forwarder.Delivery{d})[0]
}

// SendBatch sends deliveries, grouped by BatchKey, at most MaxBatch per
// request, and returns one error per delivery, index-aligned: nil when
// Google has the conversion (including when it already had it), else a
// classified error (forwarder.Permanent, Transient or RetryAfter). A
// delivery that fails the local checks is not sent.
func (s *Sender) SendBatch(ctx context.Context, ds []forwarder.Delivery) []error {
	errs, _ := s.SendBatchReceipts(ctx, ds)
	return errs
}

// SendBatchReceipts is SendBatch that also returns one receipt per
// delivery, index-aligned: for a delivery the Data Manager API accepted,
// the request id Google answered and the delivery's positions in that
// request, so its processing can be asked about later; the zero Receipt
// for the others (the Google Ads API reports its rows at once).
func (s *Sender) SendBatchReceipts(ctx context.Context, ds []forwarder.Delivery) ([]error, []forwarder.Receipt) {
	errs := make([]error, len(ds))
	recs := make([]forwarder.Receipt, len(ds))
	convs := make([]*forwarder.AdsConversion, len(ds))
	now := s.now()
	groups := map[string][]int{}
	var order []string
	for i, d := range ds {
		if errs[i] = s.check(d, now); errs[i] != nil {
			continue
		}
		// Identifiers with a control character were refused by check;
		// this covers every other text.
		convs[i] = d.CleanTexts().Ads
		k := BatchKey(d)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		idx := groups[k]
		for start := 0; start < len(idx); start += MaxBatch {
			chunk := idx[start:min(start+MaxBatch, len(idx))]
			batch := make([]*forwarder.AdsConversion, len(chunk))
			for j, i := range chunk {
				batch[j] = convs[i]
			}
			var res []error
			var rec []forwarder.Receipt
			if batch[0].Backend == forwarder.AdsBackendDataManager {
				res, rec = s.ingest(ctx, batch, true)
			} else {
				res = s.upload(ctx, batch)
			}
			for j, i := range chunk {
				errs[i] = res[j]
				if rec != nil {
					recs[i] = rec[j]
				}
			}
		}
	}
	return errs, recs
}

// check applies the local checks to d: Validate, the clock and the
// configuration.
func (s *Sender) check(d forwarder.Delivery, now time.Time) error {
	a := d.Ads
	if a == nil {
		return forwarder.Permanent("NOT_A_GOOGLE_ADS_DELIVERY", fmt.Errorf("googleads: delivery %s has no Google Ads conversion", d.ID))
	}
	if err := Validate(a); err != nil {
		return err
	}
	if a.Time.After(now.Add(futureSkew)) {
		return forwarder.Permanent("LATER_THAN_MAXIMUM_DATE", fmt.Errorf("googleads: delivery %s: the conversion time %s is in the future", d.ID, a.Time.UTC().Format(time.RFC3339)))
	}
	switch {
	case a.Backend == forwarder.AdsBackendDataManager && s.dm == nil:
		return forwarder.Permanent("NO_CREDENTIALS", fmt.Errorf("googleads: delivery %s: backend %s is not configured (no token source with the datamanager scope)", d.ID, a.Backend))
	case a.Backend == forwarder.AdsBackendGoogleAdsAPI && s.adsClient == nil:
		return forwarder.Permanent("NO_CREDENTIALS", fmt.Errorf("googleads: delivery %s: backend %s is not configured (no token source with the adwords scope)", d.ID, a.Backend))
	}
	return nil
}

// fill returns n copies of err.
func fill(n int, err error) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// BatchKey implements the delivery workers' batch capability: deliveries
// with equal keys may share a request (see the package function BatchKey).
func (s *Sender) BatchKey(d forwarder.Delivery) string { return BatchKey(d) }
