package emulator_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/examples"
	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/ga4"
	"github.com/callforward/callforward/forwarder/googleads"
	"github.com/callforward/callforward/forwarder/ua"
	"github.com/callforward/callforward/forwarder/webhook"
	"github.com/callforward/callforward/mapping"
)

// ownNow is the clock of the emulator and the senders in FuzzOwnPayloads:
// a few hours after the sample calls.
var ownNow = time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)

// ownRules send to every kind of destination the forwarder has, with
// values taken from the call wherever the rules allow it: whatever the
// platform sends ends up in a payload.
const ownRules = `
settings: {default_region: AU}
destinations:
  web: {type: ga4, measurement_id: G-OWNFUZZ01}
  dm: {type: google_ads, customer_id: 123-456-7890, login_customer_id: 111-222-3333}
  api: {type: google_ads, customer_id: "9876543210", backend: google_ads_api}
  legacy: {type: ua, tracking_id: UA-12345-1}
rules:
  - name: every
    send:
      - to: web
        event: phone_call
        params:
          duration: "{{Call.Duration}}"
          outcome: "{{Call.Disposition}}"
          number_name: "{{Call.To.Name}}"
          city: "{{Call.From.City}}"
          keywords: "{{Session.Keywords}}"
          page: "{{Session.ConversionUri}}"
          campaign: "{{Attribution.Campaign}}"
          survey: "{{Call.Survey.Value}}"
          booking_type: "{{Call.Survey.Type}}"
          custom: "{{Call.Survey.Custom1}}"
          value: 1.5
          currency: AUD
        user_properties:
          city: "{{Call.From.City}}"
          region: "{{Call.From.Region}}"
      - to: legacy
        category: "{{Call.To.Name}}"
        action: "{{Call.Disposition}}"
        label: "{{Call.From.City}} {{Session.Keywords}}"
        value: "{{Call.Survey.Value}}"
        campaign: true
  - name: ads
    send:
      - {to: dm, conversion_action: "1", caller_phone: hashed, value: "{{Call.Survey.Value}}", default_value: 5, currency: AUD, consent: {ad_user_data: granted}}
      - {to: api, conversion_action: "2", caller_phone: hashed, value: "{{Call.Duration}}", currency: AUD}
  - name: ads-call
    send: [{to: api, conversion_action: "3", kind: call, value: 20, currency: AUD}]
  - name: gclid
    when: {has_gclid: true}
    send: [{to: dm, conversion_action: "4", time: end, value: 12.5, currency: USD}]
`

// ownWorld is a fresh emulator behind a loopback server, with the real
// senders pointed at it.
type ownWorld struct {
	emu     *emulator.Server
	senders map[string]ownSender
}

// ownSender is the part of a sender the fuzz target uses.
type ownSender interface {
	Send(ctx context.Context, d forwarder.Delivery) error
}

// ownSamples are the sample webhooks as fuzz inputs, each also with its
// call moved to times that every destination accepts, and to older ones
// that some refuse.
func ownSamples(f *testing.F) {
	names, err := fs.Glob(examples.FS, "webhooks/*.*")
	if err != nil || len(names) == 0 {
		f.Fatalf("no sample webhooks: %v", err)
	}
	for _, name := range names {
		base := path.Base(name)
		raw, err := examples.FS.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		bodies := [][]byte{raw}
		for _, age := range []time.Duration{10 * time.Minute, 3 * time.Hour, 13 * time.Hour, 50 * time.Hour} {
			b, err := examples.Set(base, raw, map[string]string{"Call.StartDate": examples.StartDate(ownNow.Add(-age))})
			if err != nil {
				f.Fatal(err)
			}
			bodies = append(bodies, b)
		}
		for _, b := range bodies {
			b = []byte(strings.TrimSpace(string(b)))
			if strings.HasSuffix(base, ".query") {
				f.Add(true, "", string(b), []byte(nil))
			} else {
				f.Add(false, examples.ContentType(base), "", b)
			}
		}
	}
}

// FuzzOwnPayloads: whatever call the platform sends, the payloads the
// forwarder builds from it under the example rules and under rules that
// use every destination are accepted by the emulator's validation of
// Google's APIs, unless the rules or the sender refused the delivery
// before sending it. Input: a webhook request (method, Content-Type,
// query, body), seeded with the sample webhooks.
func FuzzOwnPayloads(f *testing.F) {
	ownSamples(f)
	rulesets := ownRulesets(f)
	srv, current := ownServer(f)
	f.Fuzz(func(t *testing.T, get bool, contentType, rawQuery string, body []byte) {
		method := http.MethodPost
		if get {
			method = http.MethodGet
		}
		params, err := webhook.Params(method, contentType, rawQuery, body)
		if err != nil {
			return
		}
		call, err := webhook.Decode(params)
		if err != nil {
			return
		}
		w := newOwnWorld(t, srv)
		current.Store(w.emu)
		w.run(t, rulesets, call)
	})
}

// TestOwnPayloadsReachGoogle: the sample calls, made recent, take
// FuzzOwnPayloads through every sender to the emulator, which keeps
// their payloads (so the fuzz target checks real sends, not refusals).
func TestOwnPayloadsReachGoogle(t *testing.T) {
	rulesets := ownRulesets(t)
	srv, current := ownServer(t)
	w := newOwnWorld(t, srv)
	current.Store(w.emu)
	names, err := fs.Glob(examples.FS, "webhooks/*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		raw, err := examples.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		body, err := examples.Set(path.Base(name), raw, map[string]string{"Call.StartDate": examples.StartDate(ownNow.Add(-time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		method, query := http.MethodPost, ""
		if strings.HasSuffix(name, ".query") {
			method, query, body = http.MethodGet, string(body), nil
		}
		params, err := webhook.Params(method, examples.ContentType(name), query, body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		call, err := webhook.Decode(params)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w.run(t, rulesets, call)
	}
	got := w.counts()
	for what, n := range map[string]int{
		"GA4 events": got.ga4Kept, "UA hits": got.uaKept, "Data Manager events": got.dmKept,
		"Google Ads API click conversions": got.clicks, "Google Ads API call conversions": got.calls,
	} {
		if n == 0 {
			t.Errorf("no %s kept from the samples", what)
		}
	}
}

// ownRulesets are the example rules and ownRules.
func ownRulesets(tb testing.TB) []*mapping.Rules {
	tb.Helper()
	example, err := examples.FS.ReadFile("rules.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var out []*mapping.Rules
	for _, src := range []struct {
		name string
		data []byte
	}{{"examples/rules.yaml", example}, {"own.yaml", []byte(ownRules)}} {
		r, err := mapping.Parse(src.name, src.data)
		if err != nil {
			tb.Fatalf("%s: %v", src.name, err)
		}
		out = append(out, r)
	}
	return out
}

// ownServer is one loopback server per test (or fuzzing process) that
// serves the emulator stored in current, so each input can get a fresh
// one (with senders holding fresh tokens).
func ownServer(tb testing.TB) (*httptest.Server, *atomic.Pointer[emulator.Server]) {
	current := &atomic.Pointer[emulator.Server]{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current.Load().Handler().ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	return srv, current
}

// run plans call under each ruleset and checks every delivery.
func (w *ownWorld) run(t *testing.T, rulesets []*mapping.Rules, call *forwarder.Call) {
	t.Helper()
	for _, rules := range rulesets {
		for _, d := range rules.Evaluate(call) {
			w.check(t, d)
		}
	}
}

// newOwnWorld builds a fresh emulator and the senders for it.
func newOwnWorld(t *testing.T, srv *httptest.Server) *ownWorld {
	t.Helper()
	clock := func() time.Time { return ownNow }
	emu := emulator.New(emulator.Options{Now: clock})
	g := &credentials.Google{OAuthClient: &credentials.OAuthClient{ClientID: "fuzz", ClientSecret: "fuzz-secret", RefreshToken: "fuzz-refresh"}}
	ctx := context.Background()
	dm, err := g.TokenSource(ctx, srv.URL+"/token", credentials.ScopeDataManager)
	if err != nil {
		t.Fatal(err)
	}
	adwords, err := g.TokenSource(ctx, srv.URL+"/token", credentials.ScopeAdWords)
	if err != nil {
		t.Fatal(err)
	}
	ads, err := googleads.NewSender(ctx, googleads.Config{
		DataManagerEndpoint: srv.URL, GoogleAdsEndpoint: srv.URL,
		TokenSource: dm, AdsTokenSource: adwords, DeveloperToken: "fuzz-dev-token",
		HTTPClient: srv.Client(), Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &ownWorld{emu: emu, senders: map[string]ownSender{
		forwarder.DestinationGA4: ga4.NewSender(ga4.Config{
			Endpoint: srv.URL, HTTPClient: srv.Client(), Now: clock,
			Secrets: map[string]string{"G-HARBOUR01": "fuzz-secret", "G-OWNFUZZ01": "fuzz-secret"},
		}),
		forwarder.DestinationGoogleAds: ads,
		forwarder.DestinationUA:        ua.NewSender(ua.Config{Endpoint: srv.URL, HTTPClient: srv.Client(), Now: clock}),
	}}
}

// ownCounts is what the emulator saw: requests that reached each API and
// what it kept of them.
type ownCounts struct {
	reached                             int // API requests, whatever became of them
	ga4Kept, ga4Dropped, uaKept, uaDrop int
	dmKept, dmDeduped, clicks, calls    int
}

func (w *ownWorld) counts() ownCounts {
	e := w.emu
	c := ownCounts{
		ga4Kept: len(e.GA4Events()), ga4Dropped: len(e.GA4Dropped()),
		uaKept: len(e.UAHits()), uaDrop: len(e.UADropped()),
		dmKept: len(e.DataManagerEvents()), dmDeduped: e.DataManagerDuplicates(),
		clicks: len(e.AdsClickConversions()), calls: len(e.AdsCallConversions()),
	}
	c.reached = c.ga4Kept + c.ga4Dropped + c.uaKept + c.uaDrop +
		e.Requests(emulator.EndpointIngestEvents) + e.Requests(emulator.EndpointUploadClicks) + e.Requests(emulator.EndpointUploadCalls)
	return c
}

// check sends d and fails the test when the emulator refused or dropped
// it, or when the sender failed for another reason than refusing d
// before sending.
func (w *ownWorld) check(t *testing.T, d forwarder.Delivery) {
	t.Helper()
	s, ok := w.senders[d.Type]
	if !ok {
		t.Fatalf("%s: no sender for destination type %q", d.ID, d.Type)
	}
	before := w.counts()
	err := s.Send(context.Background(), d)
	after := w.counts()
	if err != nil {
		se := forwarder.Classify(err)
		switch {
		case after.reached > before.reached:
			t.Fatalf("%s (%s): the emulator refused the payload: %v", d.ID, d.Type, err)
		case se.Kind != forwarder.KindPermanent:
			t.Fatalf("%s (%s): the send failed without reaching the emulator, and not as a refusal: %v", d.ID, d.Type, err)
		}
		return
	}
	switch d.Type {
	case forwarder.DestinationGA4:
		if after.ga4Dropped > before.ga4Dropped {
			t.Fatalf("%s: GA4 answered 204 but dropped the event: %+v", d.ID, w.emu.GA4Dropped()[before.ga4Dropped:])
		}
		if after.ga4Kept == before.ga4Kept {
			t.Fatalf("%s: sent without error, but GA4 kept no event", d.ID)
		}
	case forwarder.DestinationUA:
		if after.uaDrop > before.uaDrop {
			t.Fatalf("%s: the UA collector answered but dropped the hit: %+v", d.ID, w.emu.UADropped()[before.uaDrop:])
		}
		if after.uaKept == before.uaKept {
			t.Fatalf("%s: sent without error, but the UA collector kept no hit", d.ID)
		}
	case forwarder.DestinationGoogleAds:
		switch {
		case d.Ads.Backend == forwarder.AdsBackendDataManager:
			if after.dmKept+after.dmDeduped == before.dmKept+before.dmDeduped {
				t.Fatalf("%s: sent without error, but the Data Manager API recorded no event", d.ID)
			}
		case d.Ads.Kind == forwarder.AdsCall:
			if after.calls == before.calls {
				t.Fatalf("%s: sent without error, but the Google Ads API recorded no call conversion", d.ID)
			}
		default:
			if after.clicks == before.clicks {
				t.Fatalf("%s: sent without error, but the Google Ads API recorded no click conversion", d.ID)
			}
		}
	}
}
