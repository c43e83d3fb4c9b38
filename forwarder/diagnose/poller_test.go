package diagnose_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	datamanager "google.golang.org/api/datamanager/v1"
	"google.golang.org/api/option"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/diagnose"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/googleads"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
)

// counter is a Recorder that counts polls by result and outcomes by
// destination and verdict.
type counter struct {
	mu       sync.Mutex
	polls    map[string]int
	outcomes map[string]int
}

func (c *counter) Poll(result string) { c.mu.Lock(); c.polls[result]++; c.mu.Unlock() }
func (c *counter) Outcome(dest string, v forwarder.Verdict) {
	c.mu.Lock()
	c.outcomes[dest+" "+v.String()]++
	c.mu.Unlock()
}

type tokenFunc func() (*oauth2.Token, error)

func (f tokenFunc) Token() (*oauth2.Token, error) { return f() }

// pollEnv is an emulator, a store and a Poller sharing one clock.
type pollEnv struct {
	clk *clock
	em  *emulator.Server
	st  *bolt.Store
	dm  *datamanager.Service
	rec *counter
	p   *diagnose.Poller
	// sent counts the calls stored so far.
	sent int
	// now is the clock of the store and the emulator; first is the wait
	// before the first poll of a request sent.
	now   func() time.Time
	first time.Duration
}

var testSchedule = diagnose.Schedule{First: 30 * time.Minute, Max: 4 * time.Hour, GiveUp: 24 * time.Hour}

// envOptions change a pollEnv: the store's lease (default 1 min), the
// real clock instead of the test's, a wrapper of the emulator's handler and of the store the Poller uses, and the Poller's Workers
// and Timeout.
type envOptions struct {
	lease     time.Duration
	realClock bool
	handler   func(http.Handler) http.Handler
	store     func(store.Diagnostics) store.Diagnostics
	first     time.Duration
	workers   int
	timeout   time.Duration
}

func newPollEnv(t *testing.T, proc emulator.ProcessingConfig) *pollEnv {
	t.Helper()
	return newPollEnvWith(t, proc, envOptions{})
}

func newPollEnvWith(t *testing.T, proc emulator.ProcessingConfig, o envOptions) *pollEnv {
	t.Helper()
	clk := &clock{t: time.Now().UTC()}
	now := clk.now
	if o.realClock {
		now = time.Now
	}
	if o.lease <= 0 {
		o.lease = time.Minute
	}
	if o.first == 0 {
		o.first = testSchedule.First
	}
	em := emulator.New(emulator.Options{Now: now, Ads: emulator.AdsConfig{Processing: proc}})
	h := em.Handler()
	if o.handler != nil {
		h = o.handler(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	conf := &oauth2.Config{ClientID: "id", ClientSecret: "cs", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token"}}
	hc := context.WithValue(ctx, oauth2.HTTPClient, srv.Client())
	// A token per request: the emulator's clock jumps hours ahead.
	fresh := tokenFunc(func() (*oauth2.Token, error) { return conf.TokenSource(hc, &oauth2.Token{RefreshToken: "rt"}).Token() })
	dm, err := datamanager.NewService(ctx, option.WithEndpoint(srv.URL+"/"),
		option.WithHTTPClient(&http.Client{Transport: &oauth2.Transport{Source: fresh, Base: srv.Client().Transport}}),
		option.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), store.Options{Lease: o.lease, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var diag store.Diagnostics = st
	if o.store != nil {
		diag = o.store(st)
	}
	rec := &counter{polls: map[string]int{}, outcomes: map[string]int{}}
	p := diagnose.NewPoller(diag, dm, diagnose.PollerConfig{Schedule: testSchedule, Now: now, Recorder: rec,
		Workers: o.workers, Timeout: o.timeout})
	return &pollEnv{clk: clk, em: em, st: st, dm: dm, rec: rec, p: p, now: now, first: o.first}
}

// send stores one call per click, sends their conversions to the
// emulator in one request, and acknowledges the jobs with the poll of
// that request, as the delivery workers do.
func (e *pollEnv) send(t *testing.T, gclids ...string) []string {
	t.Helper()
	ctx := context.Background()
	var convs []*forwarder.AdsConversion
	first := e.sent
	e.sent += len(gclids)
	for i, g := range gclids {
		sid := fmt.Sprintf("CA%02d", first+i)
		value := 10.0
		a := &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick,
			CustomerID: "1234567890", ConversionAction: []string{"111", "222"}[i%2], GCLID: g,
			Time: e.now().Add(-time.Hour), Value: &value, Currency: "AUD", TransactionID: sid, AdUserData: "GRANTED"}
		convs = append(convs, a)
		d := forwarder.Delivery{ID: forwarder.DeliveryID(sid, "r", "ads"), CallSid: sid, Rule: "r", Destination: "ads",
			Type: forwarder.DestinationGoogleAds, CallTime: a.Time, Ads: a}
		if err := e.st.Accept(ctx, &forwarder.Call{Sid: sid, Event: forwarder.EventComplete, StartDate: a.Time}, []forwarder.Delivery{d}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := e.dm.Events.Ingest(googleads.BuildIngestRequest(convs, false)).Context(ctx).Do()
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	jobs, err := e.st.Claim(ctx, len(gclids))
	if err != nil || len(jobs) != len(gclids) {
		t.Fatalf("claim: %d jobs, %v", len(jobs), err)
	}
	p := store.Poll{RequestID: resp.RequestId, SentAt: e.now(), DueAt: e.now().Add(e.first)}
	var sids []string
	for _, j := range jobs {
		i := slices.IndexFunc(convs, func(a *forwarder.AdsConversion) bool { return a.TransactionID == j.Delivery.CallSid })
		p.Items = append(p.Items, store.PollItem{DeliveryID: j.Delivery.ID, Index: i, Dest: i % 2})
	}
	for i := range gclids {
		sids = append(sids, fmt.Sprintf("CA%02d", first+i))
	}
	for _, err := range e.st.AckPolled(ctx, jobs, p) {
		if err != nil {
			t.Fatalf("ack polled: %v", err)
		}
	}
	return sids
}

// verdicts returns each call's verdict as a person reads it.
func (e *pollEnv) verdicts(t *testing.T, sids []string) []string {
	t.Helper()
	var out []string
	for _, sid := range sids {
		jobs, err := e.st.Jobs(context.Background(), sid)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("jobs of %s: %v, %v", sid, jobs, err)
		}
		v := "awaiting"
		if jobs[0].Job.Verdict != nil {
			v = jobs[0].Job.Verdict.String()
		}
		out = append(out, fmt.Sprintf("%s %s %s", sid, jobs[0].State, v))
	}
	return out
}

func TestPollerResolves(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t, emulator.ProcessingConfig{
		DelayMS:             int64(time.Hour / time.Millisecond),
		RejectGCLIDPrefixes: map[string]string{"EXPIRED-": "PROCESSING_ERROR_REASON_EXPIRED_CLICK", "DUP-": "PROCESSING_ERROR_REASON_DUPLICATE_TRANSACTION_ID"},
		MinPollGapMS:        int64(testSchedule.First / time.Millisecond),
	})
	sids := e.send(t, "OK-0", "EXPIRED-1", "DUP-2", "OK-3")
	ctx := context.Background()

	e.clk.add(testSchedule.First - time.Second)
	if n := e.p.Round(ctx); n != 0 {
		t.Fatalf("%d polls before the first wait", n)
	}
	e.clk.add(time.Second) // 30m: still processing; next at 30m + 60m
	if n := e.p.Round(ctx); n != 1 {
		t.Fatalf("%d polls at the first wait, want 1", n)
	}
	e.clk.add(59 * time.Minute)
	if n := e.p.Round(ctx); n != 0 {
		t.Fatalf("%d polls before the backoff allows", n)
	}
	e.clk.add(time.Minute)
	if n := e.p.Round(ctx); n != 1 {
		t.Fatalf("%d polls after the backoff, want 1", n)
	}
	want := []string{
		"CA00 done counted",
		"CA01 dead rejected by Google: EXPIRED_CLICK",
		"CA02 done counted (DUPLICATE_TRANSACTION_ID); Google already had this conversion",
		"CA03 done counted",
	}
	if got := e.verdicts(t, sids); !slices.Equal(got, want) {
		t.Errorf("verdicts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	dead, err := e.st.DeadLetters(ctx, 10)
	if err != nil || len(dead) != 1 || dead[0].Kind != store.DeadProcessing || dead[0].Code != "EXPIRED_CLICK" {
		t.Errorf("dead letters %+v, %v; want CA01's, of kind processing", dead, err)
	}
	if r := e.em.RequestStatusPolls(); r.Polls != 2 || r.Violations != 0 {
		t.Errorf("emulator saw %+v, want 2 polls and no violation", r)
	}
	if e.rec.polls[diagnose.PollProcessing] != 1 || e.rec.polls[diagnose.PollResolved] != 1 || e.rec.outcomes["ads counted"] != 2 ||
		e.rec.outcomes["ads rejected by Google: EXPIRED_CLICK"] != 1 {
		t.Errorf("recorded polls %v, outcomes %v", e.rec.polls, e.rec.outcomes)
	}
	e.clk.add(48 * time.Hour)
	if n := e.p.Round(ctx); n != 0 {
		t.Errorf("%d polls of a resolved request", n)
	}
}

func TestPollerGivesUp(t *testing.T) {
	t.Parallel()
	e := newPollEnv(t, emulator.ProcessingConfig{DelayMS: int64(48 * time.Hour / time.Millisecond)})
	sids := e.send(t, "OK-0", "OK-1")
	ctx := context.Background()
	polls := 0
	for range 200 {
		e.clk.add(10 * time.Minute)
		polls += e.p.Round(ctx)
	}
	want := "Google did not report within 24h0m0s of the send (" + fmt.Sprint(polls) + " polls; last answer: PROCESSING,PROCESSING)"
	for _, got := range e.verdicts(t, sids) {
		if !strings.HasSuffix(got, "done unknown; "+want) {
			t.Errorf("verdict %q, want unknown with note %q", got, want)
		}
	}
	// 30m, then 1h, 2h, 4h, 4h... from the last poll, one final at 24h.
	recorded := 0
	for _, n := range e.rec.polls {
		recorded += n
	}
	if polls < 7 || polls > 9 || e.rec.polls[diagnose.PollGaveUp] != 1 || recorded != polls {
		t.Errorf("%d polls (recorded %v), want 7 to 9, each recorded once, the last as the give-up", polls, e.rec.polls)
	}
}
