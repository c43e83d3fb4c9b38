package cli

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"github.com/callforward/callforward/forwarder/app"
	"github.com/callforward/callforward/forwarder/preflight"
)

// serveFlags declares the flags of serve on fs, filling cfg.
func serveFlags(fs *flag.FlagSet, cfg *app.Config, logLevel, logFormat *string) {
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to listen on")
	fs.StringVar(&cfg.AdminListen, "admin-listen", cfg.AdminListen, "serve the read API (/admin/api/...) and the web console (/) on this address, e.g. 127.0.0.1:9090; needs admin_tokens in the credentials file; empty: off")
	fs.BoolVar(&cfg.AdminSecureCookies, "admin-secure-cookies", cfg.AdminSecureCookies, "mark the console's cookies Secure even on plain HTTP (set it behind a proxy that terminates TLS; on TLS requests they are Secure anyway)")
	fs.String("config", "", "optional YAML file of settings, keyed by flag name (flag > environment > file > default)")
	declareStoreFlags(fs, &cfg.Store)
	fs.StringVar(&cfg.RulesPath, "rules", cfg.RulesPath, "rules file (YAML)")
	fs.BoolVar(&cfg.WatchRules, "watch-rules", cfg.WatchRules, "reload the rules file when its content changes, once it has been unchanged for 300ms (a file with errors is refused and the rules in force stay); SIGHUP reloads it either way")
	fs.StringVar(&cfg.CredentialsPath, "credentials", cfg.CredentialsPath, "credentials file (JSON): webhook tokens, GA4 API secrets, Google OAuth")
	fs.BoolVar(&cfg.NoAuth, "insecure-no-auth", cfg.NoAuth, "accept webhooks without a token (local tests only)")
	fs.StringVar(&cfg.GA4Endpoint, "ga4-endpoint", cfg.GA4Endpoint, "GA4 Measurement Protocol base URL (EU: https://region1.google-analytics.com)")
	fs.StringVar(&cfg.UAEndpoint, "ua-endpoint", cfg.UAEndpoint, "legacy Universal Analytics collector base URL")
	fs.StringVar(&cfg.DataManagerEndpoint, "datamanager-endpoint", cfg.DataManagerEndpoint, "Google Data Manager API base URL")
	fs.StringVar(&cfg.GoogleAdsEndpoint, "googleads-endpoint", cfg.GoogleAdsEndpoint, "Google Ads API base URL")
	fs.StringVar(&cfg.GoogleAdsAPIVersion, "googleads-api-version", cfg.GoogleAdsAPIVersion, "Google Ads API version (upgrade at least yearly: Google sunsets each version after about 12 months)")
	fs.StringVar(&cfg.OAuthTokenURL, "oauth-token-url", cfg.OAuthTokenURL, "Google OAuth2 token endpoint")
	fs.BoolVar(&cfg.AdsValidateOnly, "ads-validate-only", cfg.AdsValidateOnly, "dry run: Google validates Ads conversions but records none")
	fs.StringVar(&cfg.SpoolDir, "spool-dir", cfg.SpoolDir, "with --redis-url: keep calls here (fsynced) while Redis is unreachable, and move them to Redis when it returns; without it such calls get 503")
	fs.Int64Var(&cfg.MaxBody, "max-body", cfg.MaxBody, "largest webhook body accepted, in bytes")
	fs.IntVar(&cfg.MaxInFlight, "max-in-flight", cfg.MaxInFlight, "webhooks read, decoded and stored at once (with max-body, bounds the memory they hold); more wait for a turn, up to 5s, then get 503 with Retry-After")
	fs.StringVar(&cfg.SignatureHeader, "webhook-signature-header", cfg.SignatureHeader, "header holding the HMAC-SHA256 signature, checked when credentials.json has webhook_signature_secret")
	fs.Var(prefixList{&cfg.AllowCIDRs}, "allow-cidr", "only accept webhooks from these networks, comma-separated (e.g. 203.0.113.0/24); default: any")
	fs.Var(prefixList{&cfg.TrustedProxies}, "trusted-proxy", "networks of reverse proxies whose X-Forwarded-For is believed, comma-separated")
	fs.Float64Var(&cfg.RateLimit, "webhook-rate-limit", cfg.RateLimit, "webhooks per second accepted per token (0: no limit); over it: 429 with Retry-After")
	fs.IntVar(&cfg.RateBurst, "webhook-rate-burst", cfg.RateBurst, "webhooks a token may send at once (0: one second's worth)")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "concurrent deliveries; 0 makes an intake-only instance that delivers nothing (with Redis, other instances deliver)")
	fs.DurationVar(&cfg.SendTimeout, "send-timeout", cfg.SendTimeout, "bound on one send to Google")
	fs.DurationVar(&cfg.Store.Lease, "lease", cfg.Store.Lease, "how long a claimed delivery is held before it may be taken over; the workers renew it while they hold the delivery (must exceed send-timeout by more than a tenth of itself)")
	fs.DurationVar(&cfg.Store.DedupWindow, "dedup-window", cfg.Store.DedupWindow, "how long each event of a Call.Sid is remembered")
	fs.Var(durationList{&cfg.RetrySchedule}, "retry-schedule", "waits between retries of a failing delivery, comma-separated; after the last one it is dead-lettered")
	fs.DurationVar(&cfg.PollInterval, "poll-interval", cfg.PollInterval, "how often idle workers look for due deliveries")
	fs.DurationVar(&cfg.Diagnostics.First, "diagnostics-first-poll", cfg.Diagnostics.First, "wait after Google accepts a Data Manager request before asking how it processed it (requestStatus:retrieve)")
	fs.DurationVar(&cfg.Diagnostics.Max, "diagnostics-max-interval", cfg.Diagnostics.Max, "longest wait between two polls of one request; the waits double from diagnostics-first-poll up to it")
	fs.DurationVar(&cfg.Diagnostics.GiveUp, "diagnostics-give-up", cfg.Diagnostics.GiveUp, "how long after the send a request is asked about; then its deliveries' outcome is unknown")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", cfg.ShutdownGrace, "bound on a graceful stop (answering requests in flight, finishing and recording sends in flight)")
	fs.DurationVar(&cfg.ShutdownDelay, "shutdown-delay", cfg.ShutdownDelay, "on SIGTERM, fail /readyz and keep serving this long before closing the listener, so a load balancer stops sending first")
	fs.StringVar(&cfg.Tracing.Endpoint, "otlp-endpoint", cfg.Tracing.Endpoint, "OpenTelemetry collector to send traces to by OTLP/HTTP, e.g. http://collector:4318 (/v1/traces is added to a URL without a path); empty: tracing off")
	fs.Float64Var(&cfg.Tracing.SampleRatio, "trace-sample-ratio", cfg.Tracing.SampleRatio, "with --otlp-endpoint: fraction of new traces recorded, 0 to 1 (a webhook carrying a traceparent follows its sampled flag)")
	fs.StringVar(logLevel, "log-level", *logLevel, "debug, info, warn or error")
	fs.StringVar(logFormat, "log-format", *logFormat, "json, text, or auto (text on a terminal)")
	declareMemoryLimit(fs)
	fs.String(pprofFlag, "", "serve Go runtime profiles (net/http/pprof, /debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060; empty: off, and allocations are not sampled either (GODEBUG=memprofilerate=N keeps them)")
}

func serve(ctx context.Context, args []string, io IO) error {
	cfg := app.Defaults()
	logLevel, logFormat := "info", "auto"
	fs := newFlagSet("serve", io)
	serveFlags(fs, &cfg, &logLevel, &logFormat)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(io.Stderr, logLevel, logFormat)
	if err != nil {
		return err
	}
	cfg.Logger = log
	applyMemoryLimit(fs, log)
	tidyCtx, stopTidy := context.WithCancel(ctx)
	defer stopTidy()
	go keepTidy(tidyCtx, log, tidyEvery, quietAllocs)
	addr := fs.Lookup(pprofFlag).Value.String()
	if !sampleHeap(addr, os.Getenv("GODEBUG")) {
		stopHeapSampling()
	}
	if addr != "" {
		_, stop, err := startPprof(addr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	cfg.Tracing.ServiceVersion = versionString()
	a, err := app.New(cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	go logSetupChecks(ctx, a, log)
	return a.Run(ctx)
}

// logSetupChecks logs the checks of check --online once, at start: a
// mistake shows before calls pile up in the dead-letter list. It never
// stops the forwarder: intake works whatever Google says.
func logSetupChecks(ctx context.Context, a *app.App, log *slog.Logger) {
	for _, r := range a.CheckSetup(ctx) {
		level := slog.LevelInfo
		switch r.Status {
		case preflight.Warn:
			level = slog.LevelWarn
		case preflight.Fail:
			level = slog.LevelError
		}
		attrs := []any{"check", r.Check, "status", string(r.Status), "detail", r.Message}
		if r.Fix != "" {
			attrs = append(attrs, "fix", r.Fix)
		}
		log.Log(ctx, level, "setup check", attrs...)
	}
}
