package googleads_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/googleads"
)

// testNow is the clock of the sender and the emulator in these tests.
var testNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

const (
	customer   = "1234567890"
	manager    = "1112223333"
	action     = "987654321"
	testHash   = "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3"
	refresh    = "1//refresh-token-secret"
	clientSecr = "client-secret-value"
)

// env is a sender wired to an emulator over real HTTP.
type env struct {
	emu    *emulator.Server
	srv    *httptest.Server
	sender *googleads.Sender
}

// newEnv starts an emulator with cfg and a sender using both backends;
// tune adjusts the sender's Config.
func newEnv(t *testing.T, cfg emulator.AdsConfig, tune func(*googleads.Config)) *env {
	t.Helper()
	emu := emulator.New(emulator.Options{Now: func() time.Time { return testNow }, Ads: cfg})
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(srv.Close)
	g := &credentials.Google{OAuthClient: &credentials.OAuthClient{
		ClientID: "client-id", ClientSecret: clientSecr, RefreshToken: refresh,
	}}
	ctx := context.Background()
	dmTS, err := g.TokenSource(ctx, srv.URL+"/token", credentials.ScopeDataManager)
	if err != nil {
		t.Fatal(err)
	}
	adsTS, err := g.TokenSource(ctx, srv.URL+"/token", credentials.ScopeAdWords)
	if err != nil {
		t.Fatal(err)
	}
	c := googleads.Config{
		DataManagerEndpoint: srv.URL,
		GoogleAdsEndpoint:   srv.URL,
		TokenSource:         dmTS,
		AdsTokenSource:      adsTS,
		DeveloperToken:      "dev-token",
		HTTPClient:          srv.Client(),
		Now:                 func() time.Time { return testNow },
	}
	if tune != nil {
		tune(&c)
	}
	s, err := googleads.NewSender(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, srv: srv, sender: s}
}

// click returns a click conversion delivery for gclid on backend.
func click(backend, gclid string) forwarder.Delivery {
	v := 50.0
	sid := "CA" + gclid
	return forwarder.Delivery{
		ID: forwarder.DeliveryID(sid, "rule", "ads"), CallSid: sid, Rule: "rule", Destination: "ads",
		Type: forwarder.DestinationGoogleAds, CallTime: testNow.Add(-2 * time.Hour),
		Ads: &forwarder.AdsConversion{
			Backend: backend, Kind: forwarder.AdsClick, CustomerID: customer, LoginCustomerID: manager,
			ConversionAction: action, Time: testNow.Add(-2 * time.Hour), GCLID: gclid, HashedPhone: testHash,
			Value: &v, Currency: "AUD", TransactionID: "tx" + gclid, AdUserData: "GRANTED",
		},
	}
}

// call returns a call conversion delivery from caller on backend.
func call(backend, caller string) forwarder.Delivery {
	d := click(backend, "")
	d.ID = forwarder.DeliveryID("CA"+caller, "rule", "ads")
	a := d.Ads
	a.Kind, a.GCLID, a.HashedPhone, a.CallerID = forwarder.AdsCall, "", "", caller
	a.CallStart, a.Time = testNow.Add(-3*time.Hour), testNow.Add(-3*time.Hour+5*time.Minute)
	a.TransactionID = "tx" + caller
	return d
}

// outcome describes an error for comparisons: "ok", rejected/code (refused
// in Google's reply), or kind/code[/after].
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var se *forwarder.SendError
	if !errors.As(err, &se) {
		return "unclassified: " + err.Error()
	}
	switch {
	case se.Kind == forwarder.KindRetryAfter:
		return fmt.Sprintf("%s/%s/%s", se.Kind, se.Code, se.After)
	case se.Rejected:
		return "rejected/" + se.Code
	}
	return fmt.Sprintf("%s/%s", se.Kind, se.Code)
}

func outcomes(errs []error) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = outcome(e)
	}
	return out
}
