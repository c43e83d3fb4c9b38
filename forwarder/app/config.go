package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/oauth2/google"

	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/diagnose"
	"github.com/callforward/callforward/forwarder/googleads"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/tracing"
	"github.com/callforward/callforward/forwarder/ua"
)

// Config is everything serve needs. The CLI fills it from flags and
// FORWARDER_* environment variables; tests fill it directly.
type Config struct {
	Listen          string // address to listen on, e.g. ":8080" or "127.0.0.1:0"
	AdminListen     string // address of the read API (package adminapi), never Listen; "": none
	Store           StoreConfig
	RulesPath       string // rules file
	WatchRules      bool   // reload the rules file when it changes (it is always reloaded on SIGHUP)
	CredentialsPath string // credentials.json
	NoAuth          bool   // accept webhooks without a token (local testing only)
	GA4Endpoint     string // GA4 Measurement Protocol base URL
	UAEndpoint      string // legacy Universal Analytics collector base URL
	// Google Ads: endpoints (overridable so the emulator or a proxy can
	// stand in), API version and OAuth token URL.
	DataManagerEndpoint string
	GoogleAdsEndpoint   string
	GoogleAdsAPIVersion string
	OAuthTokenURL       string
	AdsValidateOnly     bool   // Google validates but records nothing (dry run)
	SpoolDir            string // with Redis: spool calls here while Redis is unreachable
	// Webhook hardening (see httpapi.Config).
	MaxBody         int64
	MaxInFlight     int // webhooks read, decoded and stored at once
	SignatureHeader string
	AllowCIDRs      []netip.Prefix
	TrustedProxies  []netip.Prefix
	RateLimit       float64
	RateBurst       int
	Workers         int           // concurrent sends; 0: intake only, nothing is delivered
	SendTimeout     time.Duration // bound on one send
	RetrySchedule   []time.Duration
	PollInterval    time.Duration // idle workers look for due work this often
	ShutdownGrace   time.Duration // bound on a graceful stop
	ShutdownDelay   time.Duration // on SIGTERM, fail readiness for this long before closing the listener
	SweepInterval   time.Duration // how often expired records are removed
	// Diagnostics is when Google is asked how it processed the Data
	// Manager requests it accepted.
	Diagnostics diagnose.Schedule
	// AdminSecureCookies marks the console's cookies (on AdminListen)
	// Secure even on plain HTTP requests, behind a proxy that terminates TLS.
	AdminSecureCookies bool
	// Tracing is off unless Tracing.Endpoint (or Tracing.Exporter) is set.
	Tracing tracing.Config
	Logger  *slog.Logger
}

// Defaults returns the configuration serve starts from.
func Defaults() Config {
	return Config{
		Listen: ":8080",
		Store: StoreConfig{
			DataDir:     "data",
			Lease:       2 * time.Minute,
			DedupWindow: 30 * 24 * time.Hour,
		},
		RulesPath:           "rules.yaml",
		WatchRules:          true,
		GA4Endpoint:         "https://www.google-analytics.com",
		UAEndpoint:          ua.DefaultEndpoint,
		DataManagerEndpoint: googleads.DefaultDataManagerEndpoint,
		GoogleAdsEndpoint:   googleads.DefaultGoogleAdsEndpoint,
		GoogleAdsAPIVersion: googleads.DefaultAPIVersion,
		OAuthTokenURL:       google.Endpoint.TokenURL,
		MaxBody:             httpapi.DefaultMaxBody,
		MaxInFlight:         httpapi.DefaultMaxInFlight,
		SignatureHeader:     httpapi.DefaultSignatureHeader,
		Workers:             8,
		SendTimeout:         30 * time.Second,
		RetrySchedule:       deliver.DefaultSchedule,
		PollInterval:        250 * time.Millisecond,
		ShutdownGrace:       20 * time.Second,
		SweepInterval:       time.Hour,
		Diagnostics:         diagnose.Schedule{}.WithDefaults(),
		Tracing:             tracing.Config{SampleRatio: 1, ServiceName: "callforward"},
	}
}

// Validate reports every setting that cannot work, all at once.
func (c Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: empty address"))
	}
	if c.AdminListen != "" && c.AdminListen == c.Listen && !strings.HasSuffix(c.Listen, ":0") {
		errs = append(errs, errors.New("admin-listen: must differ from listen (the read API is never served on the webhook port)"))
	}
	if c.Store.DataDir == "" && c.Store.RedisURL == "" {
		errs = append(errs, errors.New("data-dir: empty"))
	}
	if c.RulesPath == "" {
		errs = append(errs, errors.New("rules: no rules file given"))
	}
	if c.CredentialsPath == "" && !c.NoAuth {
		errs = append(errs, errors.New("credentials: no credentials file given (it holds the webhook tokens); use --insecure-no-auth only for local tests"))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("workers: %d, want 0 (intake only) or more", c.Workers))
	}
	if c.SendTimeout <= 0 {
		errs = append(errs, errors.New("send-timeout: must be positive"))
	}
	if c.Store.Lease <= store.LeaseMargin(c.SendTimeout, c.Store.Lease) {
		// The workers send a delivery only while its lease has this
		// margin left (deliver).
		errs = append(errs, fmt.Errorf("lease (%v) must exceed send-timeout (%v) by more than a tenth of itself: a delivery is sent only while its lease outlasts the send with that margin", c.Store.Lease, c.SendTimeout))
	}
	if c.Store.DedupWindow < time.Hour {
		errs = append(errs, fmt.Errorf("dedup-window: %v is too short; the platform may re-send a call hours later", c.Store.DedupWindow))
	}
	if c.SpoolDir != "" && c.Store.RedisURL == "" {
		errs = append(errs, errors.New("spool-dir: only with --redis-url (the embedded store needs no spool)"))
	}
	if len(c.RetrySchedule) == 0 {
		errs = append(errs, errors.New("retry-schedule: empty"))
	}
	for i, d := range c.RetrySchedule {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("retry-schedule[%d]: %v is not positive", i, d))
		}
	}
	if err := c.Diagnostics.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Tracing.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
