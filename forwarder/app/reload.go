package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/callforward/callforward/forwarder/filewatch"
	"github.com/callforward/callforward/mapping"
)

// The rules file is reloaded on SIGHUP and, unless Config.WatchRules is
// off, when its content changes on disk. Both paths read the file once,
// compile those bytes and swap the compiled rules in with one atomic
// store, so a webhook is planned entirely under the old rules or entirely
// under the new ones. A file with errors is refused (logged, counted) and
// the rules in force stay.
const (
	// maxRulesSize bounds the rules file, as mapping.Load does.
	maxRulesSize = 1 << 20
	// rulesDebounce is how long the rules file must stay unchanged before
	// a change is loaded: long enough for an editor's save or a ConfigMap
	// swap to finish, short enough to feel immediate.
	rulesDebounce = 300 * time.Millisecond
	// rulesPollInterval is how often the file is checked when change
	// notifications are unavailable.
	rulesPollInterval = 5 * time.Second
)

// Reload triggers, as logged.
const (
	triggerSignal = "signal"
	triggerFile   = "file change"
)

// readRules reads the rules file, refusing one larger than maxRulesSize.
func readRules(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRulesSize+1))
	if err != nil {
		return nil, fmt.Errorf("rules: read %s: %w", path, err)
	}
	if len(data) > maxRulesSize {
		return nil, fmt.Errorf("rules: %s is larger than %d bytes", path, maxRulesSize)
	}
	return data, nil
}

// Reload re-reads the rules file and puts it in force, even when its
// content is the one already loaded. A file with errors is refused: the
// errors are returned (and logged) and the current rules stay in force.
func (a *App) Reload() error {
	data, err := readRules(a.cfg.RulesPath)
	if err != nil {
		a.reloadMu.Lock()
		defer a.reloadMu.Unlock()
		a.refuse(triggerSignal, "", err)
		return err
	}
	return a.apply(data, triggerSignal, true)
}

// apply compiles data as the rules file and puts it in force. Unless
// force is set, content identical to the last content tried (loaded or
// refused) is skipped: it is what the rules in force already reflect.
func (a *App) apply(data []byte, trigger string, force bool) error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	sum := sha256.Sum256(data)
	short := hex.EncodeToString(sum[:6])
	if !force && sum == a.rulesSum {
		a.log.Debug("rules file unchanged; not reloaded", "trigger", trigger, "sha256", short)
		return nil
	}
	a.rulesSum = sum
	rules, err := mapping.Parse(a.cfg.RulesPath, data)
	if err == nil {
		err = a.checkRules(rules)
	}
	if err != nil {
		a.refuse(trigger, short, err)
		return err
	}
	for _, w := range rules.Warnings() {
		a.log.Warn("rules", "warning", w)
	}
	a.rules.Store(rules)
	a.console.rulesLoaded(a.cfg.RulesPath, data, time.Now())
	a.metrics.Reload(true)
	a.log.Info("rules reloaded", "trigger", trigger, "sha256", short,
		"rules", len(rules.RuleNames()), "destinations", len(rules.Destinations()))
	return nil
}

// checkRules refuses rules the credentials cannot serve: deliveries to a
// GA4 stream without an API secret, or to Google Ads without access,
// would all fail.
func (a *App) checkRules(rules *mapping.Rules) error {
	if missing := a.creds.MissingGA4Secrets(measurementIDs(rules)); len(missing) > 0 {
		return &missingSecretsError{missing}
	}
	return checkAdsCredentials(rules, a.creds)
}

// refuse logs and counts a refused reload. The caller holds reloadMu.
func (a *App) refuse(trigger, sha string, err error) {
	a.log.Error("rules reload refused; the previous rules stay in force", "trigger", trigger, "sha256", sha, "err", err)
	a.console.rulesRefused(sha, err, time.Now())
	a.metrics.Reload(false)
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

// watchRules reloads the rules each time the rules file's content changes,
// until ctx is done. It never fails: without change notifications it
// polls (and says so in the log).
func (a *App) watchRules(ctx context.Context) {
	w, err := filewatch.New(a.cfg.RulesPath, filewatch.Options{
		Debounce:     rulesDebounce,
		PollInterval: rulesPollInterval,
		MaxSize:      maxRulesSize,
		Logger:       a.log.With("watch", "rules"),
	})
	if err != nil {
		a.log.Warn("rules file not watched; reload it with SIGHUP", "err", err)
		return
	}
	// The first report is the file as it is now: normally the content
	// loaded at startup, which apply skips.
	w.Run(ctx, func(data []byte) { _ = a.apply(data, triggerFile, false) })
}
