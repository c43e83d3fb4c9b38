package ingest

import (
	"context"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// lookupTimeout bounds a caller lookup. A lookup takes well under a
// millisecond; the bound matters when the store is unreachable, so that a
// webhook still gets its answer (from the spool) in time.
const lookupTimeout = time.Second

// CallerHistory finds the time of a caller's latest recorded call before a
// given time (the stores' PreviousCall). It is store.CallerHistory,
// declared once with the store's contract, which every backend asserts it
// has.
type CallerHistory = store.CallerHistory

// CallerHistoryFunc adapts a function to CallerHistory.
type CallerHistoryFunc func(ctx context.Context, key string, before time.Time) (time.Time, bool, error)

// PreviousCall calls f.
func (f CallerHistoryFunc) PreviousCall(ctx context.Context, key string, before time.Time) (time.Time, bool, error) {
	return f(ctx, key, before)
}

// historian is an optional capability of a Planner: rules that may ask
// about the caller's earlier calls (mapping.Rules has it).
type historian interface {
	// NeedsCallerHistory reports whether any rule asks.
	NeedsCallerHistory() bool
	// CallerKey returns the caller's key, "" when the caller cannot be
	// identified.
	CallerKey(call *forwarder.Call) string
}

// lookUpHistory sets call.History when the planner's rules ask about the
// caller's earlier calls; otherwise it does nothing, so rules that do not
// ask cost no lookup and keep no history. The call counts at its
// StartDate (when it was received if it has none), and Accept records it
// there under the caller's key.
//
// A lookup that fails (or takes longer than lookupTimeout) does not fail
// the webhook: the call is still stored (and recorded), with
// History.Unavailable set, so first-call rules do not match it and Explain
// says why. Refusing the call instead would turn an outage of an optional
// lookup into lost calls, which the spool exists to prevent.
func (s *Service) lookUpHistory(ctx context.Context, p Planner, call *forwarder.Call) {
	h, ok := p.(historian)
	if !ok || s.history == nil || !h.NeedsCallerHistory() {
		return
	}
	at := call.StartDate
	if at.IsZero() {
		at = time.Now().UTC()
	}
	hist := &forwarder.CallerHistory{Key: h.CallerKey(call), At: at}
	if hist.Key != "" {
		lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		prev, found, err := s.history.PreviousCall(lctx, hist.Key, at)
		cancel()
		switch {
		case err != nil:
			hist.Unavailable = true
			s.log.WarnContext(ctx, "caller history lookup failed: rules asking about earlier calls will not match this call",
				"call_sid", call.Sid, "error", err)
		case found:
			hist.Previous = prev
		}
	}
	call.History = hist
}
