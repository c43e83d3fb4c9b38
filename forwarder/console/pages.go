package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/callview"
	"github.com/callforward/callforward/forwarder/store"
)

// The overview's counts are the store's tallies (store.Tallies), whole
// at any size; only the last error of each destination is read from the
// newest calls, at most lastErrorCalls of them, so the page answers in
// bounded time whatever the store holds.
const lastErrorCalls = 200

// destRow is what became of the deliveries to one destination.
type destRow struct {
	Name, Type                        string
	Pending, Delivered, Dead, Dropped int
	Counted, Rejected, Awaiting, Sent int
	Unknown                           int
	LastError                         string
	LastErrorAt                       time.Time
}

// figures are the overview's numbers from the store, as computed at At.
type figures struct {
	At        time.Time
	Stats     store.Stats
	Polls     store.PollStats
	Day, Week chart
	Dests     []*destRow
}

type overviewData struct {
	Now    time.Time
	Status Status
	*figures
}

// overviewTTL is how long the overview's figures are reused: a page
// reloaded by several people, or left open, need not read the store each
// time.
const overviewTTL = 15 * time.Second

func (c *console) overview(w http.ResponseWriter, r *http.Request) {
	f, err := c.figures(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := overviewData{Now: c.cfg.Now(), Status: c.cfg.Status(), figures: f}
	c.render(w, r, http.StatusOK, "overview", page{Title: "Overview", Nav: "overview", Data: d})
}

// figures returns the overview's figures, computed at most overviewTTL
// ago; one request computes them while the others wait.
func (c *console) figures(ctx context.Context) (*figures, error) {
	c.overviewMu.Lock()
	defer c.overviewMu.Unlock()
	now := c.cfg.Now()
	if f := c.overviewFig; f != nil && now.Sub(f.At) < overviewTTL && !now.Before(f.At) {
		return f, nil
	}
	f, err := c.computeFigures(ctx, now)
	if err != nil {
		return nil, err
	}
	c.overviewFig = f
	return f, nil
}

func (c *console) computeFigures(ctx context.Context, now time.Time) (*figures, error) {
	d := &figures{At: now}
	var err error
	if d.Stats, err = c.cfg.Store.Stats(ctx); err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	if d.Polls, err = c.cfg.Store.PollStats(ctx); err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	t, err := c.cfg.Store.Tallies(ctx)
	if err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	dests := map[string]*destRow{}
	row := func(name, typ string) *destRow {
		r := dests[name]
		if r == nil {
			r = &destRow{Name: name, Type: typ}
			dests[name] = r
			d.Dests = append(d.Dests, r)
		}
		return r
	}
	if rules := c.cfg.Rules(); rules != nil {
		for _, dd := range rules.Destinations() {
			row(dd.Name, dd.Type)
		}
	}
	for _, dt := range t.Destinations {
		r := row(dt.Destination, "")
		r.Pending, r.Delivered, r.Dead, r.Dropped = dt.Pending, dt.Done, dt.Dead, dt.Dropped
		r.Counted, r.Rejected, r.Awaiting, r.Sent, r.Unknown = dt.Counted, dt.Rejected, dt.Awaiting, dt.Sent, dt.Unknown
	}
	calls, _, err := c.cfg.Store.ListCalls(ctx, store.CallFilter{}, "", lastErrorCalls)
	if err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	for _, cs := range calls {
		for _, j := range cs.Jobs {
			row(j.Job.Delivery.Destination, j.Job.Delivery.Type).noteError(j)
		}
	}
	d.Day = hourly("Calls per hour, last 24 hours", t.Hours, now, 24)
	d.Week = hourly("Calls per hour, last 7 days", t.Hours, now, 24*7)
	return d, nil
}

// noteError keeps the latest error of j's attempts, if later than the
// row's.
func (row *destRow) noteError(j store.JobInfo) {
	if row.Type == "" {
		row.Type = j.Job.Delivery.Type
	}
	for _, a := range j.Job.History {
		if a.Error != "" && a.At.After(row.LastErrorAt) {
			row.LastErrorAt, row.LastError = a.At, a.Error
		}
	}
	if row.LastError == "" && j.Job.LastError != "" {
		row.LastError = j.Job.LastError // the store keeps no time for it
	}
}

// The states a person can filter calls by, in the order offered.
var callStates = []string{
	string(store.JobPending), string(store.JobDone), string(store.JobDead), string(store.JobDropped),
	store.StateAwaiting, string(forwarder.OutcomeCounted), string(forwarder.OutcomeRejected),
	string(forwarder.OutcomeUnknown), string(forwarder.OutcomeSent),
}

// sinceChoices are the time windows offered on the calls page.
var sinceChoices = []struct{ Value, Label string }{
	{"", "any time"}, {"1h", "last hour"}, {"24h", "last 24 hours"}, {"168h", "last 7 days"}, {"720h", "last 30 days"},
}

type callsData struct {
	Now          time.Time
	Query        callview.Query
	States       []string
	Rules, Dests []string
	Since        []struct{ Value, Label string }
	Calls        []callview.CallSummary
	Error        string
	// NextURL is the link to the next (older) page, "" at the end;
	// Paged says this is not the first page.
	NextURL string
	Paged   bool
}

// callsPageSize is the number of calls on a page.
const callsPageSize = 50

func (c *console) calls(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := callsData{
		Now: c.cfg.Now(), States: callStates, Since: sinceChoices, Paged: q.Get("cursor") != "",
		Query: callview.Query{Since: q.Get("since"), State: q.Get("state"), Rule: q.Get("rule"),
			Destination: q.Get("destination"), Sid: strings.TrimSpace(q.Get("sid"))},
	}
	if rules := c.cfg.Rules(); rules != nil {
		d.Rules = rules.RuleNames()
		for _, dd := range rules.Destinations() {
			d.Dests = append(d.Dests, dd.Name)
		}
	}
	status := http.StatusOK
	f, err := d.Query.Filter(d.Now)
	if err != nil {
		d.Error, status = err.Error(), http.StatusBadRequest
	} else {
		list, next, err := callview.List(r.Context(), c.cfg.Store, f, q.Get("cursor"), callsPageSize)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Calls = list
		if next != "" {
			nq := url.Values{}
			for _, k := range []string{"since", "state", "rule", "destination", "sid"} {
				if v := q.Get(k); v != "" {
					nq.Set(k, v)
				}
			}
			nq.Set("cursor", next)
			d.NextURL = "/calls?" + nq.Encode()
		}
	}
	c.render(w, r, status, "calls", page{Title: "Calls", Nav: "calls", Data: d})
}

type callData struct {
	Now  time.Time
	View callview.CallView
}

func (c *console) call(w http.ResponseWriter, r *http.Request) {
	v, err := callview.Load(r.Context(), c.cfg.Store, c.cfg.Rules(), r.PathValue("sid"))
	if errors.Is(err, store.ErrNotFound) {
		c.render(w, r, http.StatusNotFound, "error", page{Title: "No such call", Nav: "calls", Message: "The store holds no call with that Sid (it may have outlived its retention)."})
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "call", page{Title: "Call " + v.Sid, Nav: "calls", Data: callData{Now: c.cfg.Now(), View: v}})
}
