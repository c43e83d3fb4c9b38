package app

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/callforward/callforward/forwarder/console"
)

// consoleStatus keeps what the console shows of this instance beyond the
// store: the rules file in force and its last refused reload, and the
// last fetch of a Google access token.
type consoleStatus struct {
	mu      sync.Mutex
	started time.Time
	rules   console.RulesStatus
	google  console.GoogleStatus
}

// rulesLoaded records the rules file data as the one in force.
func (s *consoleStatus) rulesLoaded(path string, data []byte, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules.Path, s.rules.Source, s.rules.LoadedAt, s.rules.SHA256 = path, data, at, shortSum(data)
}

// rulesRefused records a refused reload.
func (s *consoleStatus) rulesRefused(sha string, err error, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules.RefusedAt, s.rules.RefusedSHA256, s.rules.RefusedReason = at, sha, err.Error()
}

// tokenFetched records a fetch of a Google access token.
func (s *consoleStatus) tokenFetched(err error, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.google.LastRefresh, s.google.RefreshError = at, ""
	if err != nil {
		s.google.RefreshError = err.Error()
	}
}

// shortSum is the shortened hex SHA-256 the logs give a rules file.
func shortSum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:6])
}

// ConsoleStatus is what the console shows of this instance.
func (a *App) ConsoleStatus() console.Status {
	a.console.mu.Lock()
	st := console.Status{Started: a.console.started, Rules: a.console.rules, Google: a.console.google}
	a.console.mu.Unlock()
	st.Google.Configured = a.tokenSources != nil
	if a.metrics != nil {
		st.Webhooks = a.metrics.WebhookCounts()
	}
	return st
}
