// Package app builds the forwarder from its configuration and runs it:
// store, rules, senders, delivery workers and the HTTP server. The CLI and
// the black-box tests both start the forwarder through App, so what is
// tested is what runs.
package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/deliver"
	"github.com/callforward/callforward/forwarder/diagnose"
	"github.com/callforward/callforward/forwarder/ga4"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/metrics"
	"github.com/callforward/callforward/forwarder/spool"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/tracing"
	"github.com/callforward/callforward/forwarder/ua"
	"github.com/callforward/callforward/mapping"
)

// App is a running forwarder.
type App struct {
	cfg        Config
	log        *slog.Logger
	store      store.Store
	rules      atomic.Pointer[mapping.Rules]
	reloadMu   sync.Mutex        // one reload at a time
	rulesSum   [sha256.Size]byte // of the rules file content last tried; guarded by reloadMu
	creds      *credentials.File
	deliverer  *deliver.Deliverer
	poller     *diagnose.Poller // asks Google about accepted Data Manager requests; nil without Data Manager
	metrics    *metrics.Metrics
	spool      *spool.Store // nil without --spool-dir
	httpClient *http.Client // to Google
	draining   atomic.Bool  // set on shutdown: readiness fails first
	server     *http.Server
	ln         net.Listener
	admin      *http.Server // the read API; nil without AdminListen
	adminLn    net.Listener
	tracing    *tracing.Tracing // off unless configured
	console    consoleStatus

	// tokenSources are the Google access token sources by Ads backend;
	// nil without Google credentials.
	tokenSources map[string]oauth2.TokenSource
}

// New validates cfg, loads rules and credentials, opens the store and binds
// the listener. Everything that can be wrong is reported here, before the
// forwarder takes its first webhook.
func New(cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, log: log}

	// The bytes compiled are the bytes hashed: a reload compares against
	// them to skip a rewrite that changed nothing.
	rulesData, err := readRules(cfg.RulesPath)
	if err != nil {
		return nil, err
	}
	a.rulesSum = sha256.Sum256(rulesData)
	rules, err := mapping.Parse(cfg.RulesPath, rulesData)
	if err != nil {
		return nil, err
	}
	for _, w := range rules.Warnings() {
		log.Warn("rules", "warning", w)
	}
	a.rules.Store(rules)
	a.console.started = time.Now()
	a.console.rulesLoaded(cfg.RulesPath, rulesData, a.console.started)

	creds := &credentials.File{}
	if cfg.CredentialsPath != "" {
		if creds, err = credentials.Load(cfg.CredentialsPath); err != nil {
			return nil, err
		}
		if w := credentials.PermissionWarning(cfg.CredentialsPath); w != "" {
			log.Warn("credentials", "warning", w)
		}
	}
	creds.AddEnvTokens(os.Getenv("FORWARDER_WEBHOOK_TOKENS"))
	if len(creds.WebhookTokens) == 0 && !cfg.NoAuth {
		return nil, errors.New("no webhook token: add webhook_tokens to the credentials file or set FORWARDER_WEBHOOK_TOKENS (or pass --insecure-no-auth for a local test)")
	}
	if missing := creds.MissingGA4Secrets(measurementIDs(rules)); len(missing) > 0 {
		return nil, &missingSecretsError{missing}
	}
	if err := checkAdsCredentials(rules, creds); err != nil {
		return nil, err
	}
	a.creds = creds
	if err := a.startTracing(); err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			a.stopTracing()
		}
	}()
	tp := a.tracing.TracerProvider()
	hcfg := httpapi.Config{
		Tokens:          creds.Tokens(),
		NoAuth:          cfg.NoAuth,
		MaxBody:         cfg.MaxBody,
		MaxInFlight:     cfg.MaxInFlight,
		SignatureSecret: []byte(creds.WebhookSignatureSecret.Reveal()),
		AllowCIDRs:      cfg.AllowCIDRs,
		TrustedProxies:  cfg.TrustedProxies,
		RateLimit:       cfg.RateLimit,
		RateBurst:       cfg.RateBurst,
		Logger:          log,
		TracerProvider:  tp,
	}
	if len(hcfg.SignatureSecret) > 0 {
		hcfg.SignatureHeader = cfg.SignatureHeader
	}
	if err := hcfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	// One connection pool to Google, sized so every worker can keep its
	// connection (the default keeps 2 per host: the rest would dial anew).
	a.httpClient = googleClient(cfg)
	a.httpClient.Transport = a.tracing.Transport(a.httpClient.Transport)
	// The Google clients live as long as the app (token refreshes use ctx).
	senders := map[string]deliver.Sender{
		forwarder.DestinationGA4: ga4.NewSender(ga4.Config{
			Endpoint:   cfg.GA4Endpoint,
			Secrets:    creds.GA4Secrets(),
			HTTPClient: a.httpClient,
		}),
		forwarder.DestinationUA: ua.NewSender(ua.Config{Endpoint: cfg.UAEndpoint, HTTPClient: a.httpClient}),
	}
	ads, adsCheck, err := a.adsSender(context.Background(), creds)
	if err != nil {
		return nil, err
	}
	if ads != nil {
		senders[forwarder.DestinationGoogleAds] = ads
		hcfg.Checks = append(hcfg.Checks, httpapi.Check{Name: "google_ads", Check: adsCheck})
	}

	st, err := OpenStore(context.Background(), cfg.StoreConfig())
	if err != nil {
		return nil, err
	}
	a.store = st
	a.metrics = metrics.New(st.Stats)
	if c, ok := st.(store.CommitObserver); ok {
		c.RecordCommits(a.metrics)
	}

	a.metrics.ObservePolls(st.PollStats)
	if ads != nil && ads.DataManager() != nil {
		a.poller = diagnose.NewPoller(st, ads.DataManager(), diagnose.PollerConfig{
			Schedule: cfg.Diagnostics, Logger: log, Recorder: a.metrics,
			// A poll is held under the store's lease, which outlasts a send.
			Timeout: cfg.SendTimeout,
		})
	}
	// The webhook handler is built after the deliverer (intake notifies it);
	// the claimer reads intake's load through load, set below.
	load := &intakeLoad{}
	a.deliverer = deliver.New(st, senders, deliver.Config{
		Intake: load,
		// Only the embedded store has no other writer: with Redis, other
		// instances' webhooks would wait behind a claim of a full batch.
		WholeBatchClaims: cfg.Store.RedisURL == "",
		Diagnostics:      cfg.Diagnostics,
		Workers:          cfg.Workers,
		PollInterval:     cfg.PollInterval,
		SendTimeout:      cfg.SendTimeout,
		Policy:           deliver.Policy{Schedule: cfg.RetrySchedule, Jitter: 0.2},
		Logger:           log,
		Recorder:         a.metrics,

		TracerProvider: tp,
	})
	// Intake stores through the spool when one is configured: calls that
	// cannot reach Redis wait on local disk instead of being refused.
	var intake interface {
		ingest.Store
		httpapi.Pinger
	} = st
	if cfg.SpoolDir != "" {
		sp, err := spool.Open(cfg.SpoolDir, st, spool.Options{Logger: log, Notify: a.deliverer.Notify})
		if err != nil {
			st.Close()
			return nil, err
		}
		a.spool, intake = sp, sp
	}
	in := ingest.New(intake, a.planner, ingest.Options{Notify: a.deliverer.Notify, Logger: log, Recorder: a.metrics, TracerProvider: tp, History: st})
	hcfg.Drops = a.metrics
	handler := httpapi.New(hcfg, in, st, readiness{intake, &a.draining})
	load.h = handler
	a.metrics.ObserveInFlight(handler.InFlight)
	metricsHandler, counted := a.metrics.Handler(), a.metrics.CountReplies(handler)
	// No ServeMux: it would "clean" odd paths with redirects before the
	// webhook handler could refuse them.
	a.server = httpapi.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			metricsHandler.ServeHTTP(w, r)
		case httpapi.WebhookPath:
			counted.ServeHTTP(w, r)
		default:
			handler.ServeHTTP(w, r)
		}
	}), httpapi.Timeouts{})
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	a.ln = ln
	if err := a.listenAdmin(); err != nil {
		a.Close()
		return nil, err
	}
	started = true
	return a, nil
}

func (a *App) planner() ingest.Planner { return a.rules.Load() }

func measurementIDs(r *mapping.Rules) []string {
	var ids []string
	for _, d := range r.Destinations() {
		if d.MeasurementID != "" {
			ids = append(ids, d.MeasurementID)
		}
	}
	return ids
}

// missingSecretsError names the GA4 streams the credentials lack.
type missingSecretsError struct{ ids []string }

func (e *missingSecretsError) Error() string {
	return fmt.Sprintf("credentials: no GA4 API secret for %v (add them under ga4_api_secrets)", e.ids)
}

// intakeLoad is how busy the webhook handler is, for the delivery
// workers to yield to it; h is set once, before the workers start.
type intakeLoad struct{ h *httpapi.Handler }

// InFlight implements deliver.Intake.
func (l *intakeLoad) InFlight() int {
	if l.h == nil {
		return 0
	}
	return l.h.InFlight()
}

// readiness reports the store's readiness, and not ready once the app is
// shutting down.
type readiness struct {
	httpapi.Pinger
	draining *atomic.Bool
}

func (r readiness) Ping(ctx context.Context) error {
	if r.draining.Load() {
		return errors.New("shutting down")
	}
	return r.Pinger.Ping(ctx)
}

// googleClient is the HTTP client of every sender.
func googleClient(cfg Config) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(100, 4*cfg.Workers)
	t.MaxIdleConnsPerHost = max(16, 2*cfg.Workers)
	return &http.Client{Transport: t, Timeout: cfg.SendTimeout}
}

// storeName says which store is in use, without credentials.
func (a *App) storeName() string {
	if a.cfg.Store.RedisURL != "" {
		return "redis"
	}
	return "embedded:" + a.cfg.Store.DataDir
}

// Addr is the address the server listens on (useful with port 0).
func (a *App) Addr() string { return a.ln.Addr().String() }

// Stats reports what the store holds.
func (a *App) Stats(ctx context.Context) (store.Stats, error) { return a.store.Stats(ctx) }

// PollStats counts the Data Manager requests Google has not reported on
// yet.
func (a *App) PollStats(ctx context.Context) (store.PollStats, error) { return a.store.PollStats(ctx) }

// ListCalls lists the stored calls newest first (see store.CallLister).
func (a *App) ListCalls(ctx context.Context, f store.CallFilter, cursor string, limit int) ([]store.CallSummary, string, error) {
	return a.store.ListCalls(ctx, f, cursor, limit)
}

// Run serves webhooks and delivers until ctx is done, then stops
// gracefully: intake stops, requests in flight are answered, sends in
// flight finish and are settled, all within ShutdownGrace.
func (a *App) Run(ctx context.Context) error {
	a.log.Info("forwarder listening", "addr", a.Addr(), "store", a.storeName())
	dctx, stopDelivery := context.WithCancel(context.WithoutCancel(ctx))
	delivered := make(chan struct{})
	if a.cfg.Workers > 0 {
		go func() {
			defer close(delivered)
			a.deliverer.Run(dctx)
		}()
	} else {
		close(delivered)
		a.log.Warn("delivery is off (workers 0): this instance accepts webhooks and delivers nothing; accepted deliveries wait for an instance with workers")
	}
	polled := make(chan struct{})
	if a.poller != nil && a.cfg.Workers > 0 {
		go func() {
			defer close(polled)
			_ = a.poller.Run(dctx)
		}()
	} else {
		close(polled)
	}
	go a.sweep(dctx)
	if k, ok := a.store.(mappedKeeper); ok {
		go k.KeepMappedLow(dctx)
	}
	go a.reloadOnHUP(dctx)
	if a.cfg.WatchRules {
		go a.watchRules(dctx)
	}
	if a.spool != nil {
		go a.spool.Drain(dctx)
	}
	serveErr := make(chan error, 2)
	go func() { serveErr <- a.server.Serve(a.ln) }()
	if a.admin != nil {
		a.log.Info("read API listening", "addr", a.AdminAddr())
		go func() { serveErr <- a.admin.Serve(a.adminLn) }()
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("http server: %w", err)
	}
	a.log.Info("forwarder stopping")
	// Readiness fails first, so load balancers stop sending; the listener
	// keeps answering for ShutdownDelay while they notice.
	a.draining.Store(true)
	if a.cfg.ShutdownDelay > 0 && err == nil {
		time.Sleep(a.cfg.ShutdownDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
	defer cancel()
	if serr := a.server.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("http shutdown: %w", serr))
	}
	if a.admin != nil {
		if serr := a.admin.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, fmt.Errorf("read API shutdown: %w", serr))
		}
	}
	stopDelivery()
	select {
	case <-delivered:
	case <-sctx.Done():
		err = errors.Join(err, errors.New("delivery workers did not stop within the grace period; unsettled deliveries will be retried after their lease"))
	}
	select {
	case <-polled:
	case <-sctx.Done():
		err = errors.Join(err, errors.New("the diagnostics poller did not stop within the grace period; its polls come back after their lease"))
	}
	a.log.Info("forwarder stopped")
	return err
}

func (a *App) sweep(ctx context.Context) {
	t := time.NewTicker(a.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.store.Sweep(ctx)
			if err != nil {
				a.log.Error("sweep failed", "err", err)
				continue
			}
			if n > 0 {
				a.log.Info("swept expired records", "records", n)
			}
		}
	}
}

// Close releases the spool and the store. Call it after Run returned.
func (a *App) Close() error {
	if a.ln != nil {
		a.ln.Close()
	}
	if a.adminLn != nil {
		a.adminLn.Close()
	}
	var err error
	if a.spool != nil {
		err = a.spool.Close()
	}
	err = errors.Join(err, a.store.Close())
	a.stopTracing()
	return err
}
