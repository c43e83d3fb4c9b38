package app

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/callforward/callforward/mapping"
)

// Reload re-reads the rules file. A file with errors is refused: the
// errors are returned (and logged) and the current rules stay in force.
// The swap is atomic: a webhook is planned entirely under the old rules or
// entirely under the new ones.
func (a *App) Reload() error {
	rules, err := mapping.Load(a.cfg.RulesPath)
	if err != nil {
		a.log.Error("rules reload refused; the previous rules stay in force", "err", err)
		a.metrics.Reload(false)
		return err
	}
	// Deliveries to a GA4 stream without an API secret would all fail.
	if missing := a.creds.MissingGA4Secrets(measurementIDs(rules)); len(missing) > 0 {
		err := &missingSecretsError{missing}
		a.log.Error("rules reload refused; the previous rules stay in force", "err", err)
		a.metrics.Reload(false)
		return err
	}
	if err := checkAdsCredentials(rules, a.creds); err != nil {
		a.log.Error("rules reload refused; the previous rules stay in force", "err", err)
		a.metrics.Reload(false)
		return err
	}
	for _, w := range rules.Warnings() {
		a.log.Warn("rules", "warning", w)
	}
	a.rules.Store(rules)
	a.metrics.Reload(true)
	a.log.Info("rules reloaded", "rules", len(rules.RuleNames()), "destinations", len(rules.Destinations()))
	return nil
}

// reloadOnHUP reloads the rules on every SIGHUP until ctx is done.
func (a *App) reloadOnHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = a.Reload() // logged by Reload
		}
	}
}
