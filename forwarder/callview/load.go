package callview

import (
	"context"
	"fmt"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

// Query is a selection of calls as a person gives it, on the command line
// (calls list) or as query parameters (the read API): every field may be
// empty.
type Query struct {
	// Since is an RFC 3339 time or a duration before now (24h).
	Since string
	// State is a delivery state or outcome (see store.CallFilter.Check).
	State, Rule, Destination string
	// Sid is a prefix of the Call.Sid.
	Sid string
}

// Filter turns q into a store filter, checking its values.
func (q Query) Filter(now time.Time) (store.CallFilter, error) {
	f := store.CallFilter{State: q.State, Rule: q.Rule, Destination: q.Destination, Sid: q.Sid}
	if err := f.Check(); err != nil {
		return f, err
	}
	if q.Since != "" {
		t, err := ParseSince(q.Since, now)
		if err != nil {
			return f, err
		}
		f.Since = t
	}
	return f, nil
}

// ParseSince reads an RFC 3339 time or a duration before now.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("since %q: want an RFC 3339 time (2026-11-26T00:00:00Z) or a duration (48h)", s)
}

// maxPages bounds the store pages one List or Load reads, so that a
// selective filter over a large store answers in bounded time; List then
// returns a cursor to go on from.
const maxPages = 20

// DefaultLimit is the page size of List when none is given.
const DefaultLimit = store.DefaultCallPage

// List returns up to limit calls matching f, newest first, from cursor
// ("" for the newest), and the cursor of the next page ("" when there is
// no more). It may return fewer than limit calls with a cursor when the
// calls it examined did not match.
func List(ctx context.Context, l store.CallLister, f store.CallFilter, cursor string, limit int) ([]CallSummary, string, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	out := []CallSummary{}
	for range maxPages {
		calls, next, err := l.ListCalls(ctx, f, cursor, limit-len(out))
		if err != nil {
			return nil, "", fmt.Errorf("list calls: %w", err)
		}
		for _, c := range calls {
			out = append(out, NewCallSummary(c))
		}
		cursor = next
		if cursor == "" || len(out) >= limit {
			break
		}
	}
	return out, cursor, nil
}

// Reader reads one stored call, its deliveries and when it arrived
// (store.Store has it).
type Reader interface {
	Call(ctx context.Context, sid string) (*forwarder.Call, error)
	Jobs(ctx context.Context, sid string) ([]store.JobInfo, error)
	store.CallLister
}

// Load reads the call sid from st and builds its view, with the verdicts
// of rules (nil: none). An unknown sid is store.ErrNotFound.
func Load(ctx context.Context, st Reader, rules *mapping.Rules, sid string) (CallView, error) {
	call, err := st.Call(ctx, sid)
	if err != nil {
		return CallView{}, fmt.Errorf("call %s: %w", sid, err)
	}
	jobs, err := st.Jobs(ctx, sid)
	if err != nil {
		return CallView{}, fmt.Errorf("deliveries of %s: %w", sid, err)
	}
	arrived, err := arrival(ctx, st, sid)
	if err != nil {
		return CallView{}, err
	}
	var verdicts []mapping.Outcome
	if rules != nil {
		verdicts = rules.Explain(call)
	}
	return NewCallView(call, arrived, jobs, verdicts), nil
}

// arrival finds when the call sid was accepted in the store's listing
// (zero when it is not among the maxPages pages of calls whose Sid starts
// with sid, newest first).
func arrival(ctx context.Context, l store.CallLister, sid string) (time.Time, error) {
	cursor := ""
	for range maxPages {
		calls, next, err := l.ListCalls(ctx, store.CallFilter{Sid: sid}, cursor, 100)
		if err != nil {
			return time.Time{}, fmt.Errorf("arrival of %s: %w", sid, err)
		}
		for _, c := range calls {
			if c.Sid == sid {
				return c.At, nil
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	return time.Time{}, nil
}
