package googleads_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/googleads"
)

func TestDataManagerEndToEnd(t *testing.T) {
	e := newEnv(t, emulator.AdsConfig{}, nil)
	dm := forwarder.AdsBackendDataManager
	bad := click(dm, "Cj0KCQbad")
	bad.Ads.HashedPhone = strings.ToUpper(testHash)
	ds := []forwarder.Delivery{click(dm, "Cj0KCQone"), bad, call(dm, "+61412345678"), click(dm, "Cj0KCQtwo")}

	errs := e.sender.SendBatch(context.Background(), ds)
	want := []string{"ok", "permanent/INVALID_USER_IDENTIFIER", "ok", "ok"}
	if got := outcomes(errs); !slices.Equal(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if n := e.emu.Requests(emulator.EndpointIngestEvents); n != 2 {
		t.Errorf("%d requests, want 2 (click and call kinds have different batch keys)", n)
	}
	var got []string
	for _, ev := range e.emu.DataManagerEvents() {
		got = append(got, fmt.Sprintf("%s %s/%s/%s %s %s %v %s %s %s", ev.TransactionID, ev.CustomerID, ev.LoginCustomerID,
			ev.ConversionAction, ev.GCLID, ev.EventTimestamp, *ev.Value, ev.Currency, ev.EventSource, ev.AdUserData))
	}
	wantEvents := []string{
		"txCj0KCQone 1234567890/1112223333/987654321 Cj0KCQone 2026-11-03T08:00:00Z 50 AUD PHONE CONSENT_GRANTED",
		"txCj0KCQtwo 1234567890/1112223333/987654321 Cj0KCQtwo 2026-11-03T08:00:00Z 50 AUD PHONE CONSENT_GRANTED",
		"tx+61412345678 1234567890/1112223333/987654321  2026-11-03T07:05:00Z 50 AUD PHONE CONSENT_GRANTED",
	}
	if !slices.Equal(got, wantEvents) {
		t.Errorf("Google got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantEvents, "\n"))
	}
	if ev := e.emu.DataManagerEvents()[2]; ev.CallStart != "2026-11-03T07:00:00Z" || len(ev.HashedPhones) != 1 {
		t.Errorf("call event: call start %q, hashed phones %d; want 2026-11-03T07:00:00Z and 1", ev.CallStart, len(ev.HashedPhones))
	}

	// Sent again: Google accepts and dedups later; the sender reports success.
	if err := e.sender.Send(context.Background(), ds[0]); err != nil {
		t.Errorf("resend: %v", err)
	}
	if d := e.emu.DataManagerDuplicates(); d != 1 {
		t.Errorf("duplicates = %d, want 1", d)
	}
}

func TestDataManagerGoogleRefusesBatch(t *testing.T) {
	t.Run("an event Google names is isolated", func(t *testing.T) {
		// The sender's clock runs an hour ahead of Google's: an event 30
		// minutes after Google's now passes the local checks only.
		e := newEnv(t, emulator.AdsConfig{}, func(c *googleads.Config) {
			c.Now = func() time.Time { return testNow.Add(time.Hour) }
		})
		dm := forwarder.AdsBackendDataManager
		future := click(dm, "Cj0KCQfuture")
		future.Ads.Time = testNow.Add(30 * time.Minute)
		ds := []forwarder.Delivery{click(dm, "Cj0KCQa"), future, click(dm, "Cj0KCQb")}
		errs := e.sender.SendBatch(context.Background(), ds)
		if got, want := outcomes(errs), []string{"ok", "rejected/TIMESTAMP_IN_FUTURE", "ok"}; !slices.Equal(got, want) {
			t.Fatalf("outcomes %v, want %v", got, want)
		}
		if n, r := len(e.emu.DataManagerEvents()), e.emu.Requests(emulator.EndpointIngestEvents); n != 2 || r != 2 {
			t.Errorf("%d events in %d requests, want 2 in 2 (refused, then resent without the culprit)", n, r)
		}
		if strings.Contains(errs[1].Error(), "Cj0KCQfuture") {
			t.Errorf("error text holds the GCLID: %v", errs[1])
		}
	})
	t.Run("a request-level refusal fails the batch", func(t *testing.T) {
		e := newEnv(t, emulator.AdsConfig{KnownActions: []string{"111"}}, nil)
		dm := forwarder.AdsBackendDataManager
		errs := e.sender.SendBatch(context.Background(), []forwarder.Delivery{click(dm, "a"), click(dm, "b")})
		want := "permanent/PRODUCT_DESTINATION_NOT_FOUND"
		if got := outcomes(errs); !slices.Equal(got, []string{want, want}) {
			t.Fatalf("outcomes %v, want both %s", got, want)
		}
		if r := e.emu.Requests(emulator.EndpointIngestEvents); r != 1 {
			t.Errorf("%d requests, want 1", r)
		}
	})
}

func TestGoogleAdsAPIRows(t *testing.T) {
	e := newEnv(t, emulator.AdsConfig{
		ExpiredGCLIDs:    []string{"Cj0KCQexpired"},
		TooRecentGCLIDs:  []string{"Cj0KCQrecent"},
		TooRecentCallers: []string{"+61400000009"},
		KnownActions:     []string{action},
	}, nil)
	api := forwarder.AdsBackendGoogleAdsAPI
	ctx := context.Background()
	if err := e.sender.Send(ctx, click(api, "Cj0KCQdone")); err != nil {
		t.Fatalf("first upload: %v", err)
	}
	noAction := click(api, "Cj0KCQnoaction")
	noAction.Ads.ConversionAction = "555"
	ds := []forwarder.Delivery{
		click(api, "Cj0KCQok"), click(api, "Cj0KCQexpired"), click(api, "Cj0KCQrecent"),
		click(api, "Cj0KCQdone"), noAction,
		call(api, "+61412345678"), call(api, "+61400000009"), call(api, "0412345678"),
	}
	errs := e.sender.SendBatch(ctx, ds)
	want := []string{
		"ok", "rejected/EXPIRED_EVENT", "retry_after/TOO_RECENT_EVENT/6h0m0s",
		"ok", "rejected/NO_CONVERSION_ACTION_FOUND",
		"ok", "retry_after/TOO_RECENT_CALL/12h0m0s", "permanent/UNPARSEABLE_CALLERS_PHONE_NUMBER",
	}
	if got := outcomes(errs); !slices.Equal(got, want) {
		t.Fatalf("outcomes\n%v\nwant\n%v", got, want)
	}
	if c, k := e.emu.Requests(emulator.EndpointUploadClicks), e.emu.Requests(emulator.EndpointUploadCalls); c != 2 || k != 1 {
		t.Errorf("%d click and %d call requests, want 2 and 1 (the unparseable caller is not sent)", c, k)
	}
	var gclids []string
	for _, c := range e.emu.AdsClickConversions() {
		gclids = append(gclids, c.GCLID)
		if c.LoginCustomerID != manager || c.OrderID != "tx"+c.GCLID || len(c.HashedPhones) != 1 {
			t.Errorf("click %+v: want login customer, order id and hashed phone", c)
		}
	}
	if !slices.Equal(gclids, []string{"Cj0KCQdone", "Cj0KCQok"}) {
		t.Errorf("Google has clicks %v, want [Cj0KCQdone Cj0KCQok]", gclids)
	}
	calls := e.emu.AdsCallConversions()
	if len(calls) != 1 || calls[0].CallStartDateTime != "2026-11-03 07:00:00+00:00" || calls[0].ConversionDateTime != "2026-11-03 07:05:00+00:00" {
		t.Errorf("Google has calls %+v", calls)
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		for _, pii := range []string{ds[i].Ads.GCLID, ds[i].Ads.CallerID, testHash} {
			if pii != "" && strings.Contains(err.Error(), pii) {
				t.Errorf("error %d holds personal data: %v", i, err)
			}
		}
	}
}

func TestGoogleAdsAPINotAllowlisted(t *testing.T) {
	e := newEnv(t, emulator.AdsConfig{NotAllowlistedCustomers: []string{customer}}, nil)
	err := e.sender.Send(context.Background(), click(forwarder.AdsBackendGoogleAdsAPI, "Cj0KCQx"))
	if got := outcome(err); got != "rejected/CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE" {
		t.Fatalf("outcome %s", got)
	}
	if !strings.Contains(err.Error(), "backend: data_manager") {
		t.Errorf("error %q should tell the operator to use backend: data_manager", err)
	}
}

func TestBatching(t *testing.T) {
	for _, backend := range []string{forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI} {
		t.Run(backend, func(t *testing.T) {
			e := newEnv(t, emulator.AdsConfig{}, nil)
			ds := make([]forwarder.Delivery, 5000)
			for i := range ds {
				ds[i] = click(backend, fmt.Sprintf("Cj0KCQ%05d", i))
			}
			errs := e.sender.SendBatch(context.Background(), ds)
			for i, err := range errs {
				if err != nil {
					t.Fatalf("delivery %d: %v", i, err)
				}
			}
			r := e.emu.Recording()
			requests := r.Requests[emulator.EndpointIngestEvents] + r.Requests[emulator.EndpointUploadClicks]
			if requests != 3 {
				t.Errorf("%d requests for 5000 conversions, want 3 (2000 + 2000 + 1000)", requests)
			}
			if n := len(r.DataManagerEvents) + len(r.ClickConversions); n != 5000 {
				t.Errorf("Google has %d conversions, want 5000", n)
			}
		})
	}
}

func TestTokenRefresh(t *testing.T) {
	t.Run("short-lived tokens are renewed", func(t *testing.T) {
		e := newEnv(t, emulator.AdsConfig{TokenLifetimeSeconds: 1}, nil)
		for i := range 3 {
			if err := e.sender.Send(context.Background(), click(forwarder.AdsBackendDataManager, fmt.Sprint("G", i))); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		// A token expiring within the library's 10 s margin counts as
		// expired: each send needs a new one.
		if n := e.emu.TokensIssued(); n != 3 {
			t.Errorf("%d tokens issued, want 3", n)
		}
	})
	t.Run("a refused token is dropped", func(t *testing.T) {
		e := newEnv(t, emulator.AdsConfig{}, nil)
		ctx := context.Background()
		for _, backend := range []string{forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI} {
			if err := e.sender.Send(ctx, click(backend, "G"+backend)); err != nil {
				t.Fatalf("%s: %v", backend, err)
			}
		}
		e.emu.ExpireAccessTokens()
		for _, backend := range []string{forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI} {
			d := click(backend, "H"+backend)
			if got := outcome(e.sender.Send(ctx, d)); !strings.HasPrefix(got, "transient/") {
				t.Errorf("%s with a revoked access token: %s, want transient", backend, got)
			}
			if err := e.sender.Send(ctx, d); err != nil {
				t.Errorf("%s: the next send should get a new token: %v", backend, err)
			}
		}
		if n := e.emu.TokensIssued(); n != 4 {
			t.Errorf("%d tokens issued, want 4 (one per backend, then one more each)", n)
		}
	})
	t.Run("a revoked refresh token waits for the operator", func(t *testing.T) {
		e := newEnv(t, emulator.AdsConfig{RevokedRefreshTokens: []string{refresh}}, nil)
		for _, backend := range []string{forwarder.AdsBackendDataManager, forwarder.AdsBackendGoogleAdsAPI} {
			err := e.sender.Send(context.Background(), click(backend, "G1"))
			if got := outcome(err); got != "transient/oauth_invalid_grant" {
				t.Errorf("%s: %s, want transient/oauth_invalid_grant", backend, got)
			}
			if !credentials.IsRevoked(err) {
				t.Errorf("%s: IsRevoked(%v) = false", backend, err)
			}
			for _, secret := range []string{refresh, clientSecr} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%s: error text holds a secret: %v", backend, err)
				}
			}
		}
	})
}

func TestLocalChecks(t *testing.T) {
	e := newEnv(t, emulator.AdsConfig{}, func(c *googleads.Config) { c.AdsTokenSource = nil })
	future := click(forwarder.AdsBackendDataManager, "G1")
	future.Ads.Time = testNow.Add(time.Hour)
	errs := e.sender.SendBatch(context.Background(), []forwarder.Delivery{
		{ID: "x/y/z", Type: forwarder.DestinationGoogleAds},
		future,
		click(forwarder.AdsBackendGoogleAdsAPI, "G2"),
	})
	want := []string{"permanent/NOT_A_GOOGLE_ADS_DELIVERY", "permanent/LATER_THAN_MAXIMUM_DATE", "permanent/NO_CREDENTIALS"}
	if got := outcomes(errs); !slices.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if n := e.emu.Requests(emulator.EndpointIngestEvents); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
	if _, err := googleads.NewSender(context.Background(), googleads.Config{}); err == nil {
		t.Error("NewSender without token sources: want an error")
	}
}

func TestBatchKey(t *testing.T) {
	a := click(forwarder.AdsBackendDataManager, "G1")
	b := click(forwarder.AdsBackendDataManager, "G2")
	b.Ads.ConversionAction = "1"
	c := call(forwarder.AdsBackendDataManager, "+61412345678")
	d := click(forwarder.AdsBackendDataManager, "G3")
	d.Ads.LoginCustomerID = ""
	if googleads.BatchKey(a) != googleads.BatchKey(b) {
		t.Error("conversions differing only by action should share a batch")
	}
	for _, other := range []forwarder.Delivery{c, d, click(forwarder.AdsBackendGoogleAdsAPI, "G4")} {
		if googleads.BatchKey(a) == googleads.BatchKey(other) {
			t.Errorf("%+v and %+v should not share a batch", a.Ads, other.Ads)
		}
	}
	if googleads.BatchKey(forwarder.Delivery{}) != "" {
		t.Error("a delivery without Ads should have the empty key")
	}
}

func TestDataManagerReceipts(t *testing.T) {
	e := newEnv(t, emulator.AdsConfig{}, nil)
	dm := forwarder.AdsBackendDataManager
	bad := click(dm, "Cj0KCQbad")
	bad.Ads.HashedPhone = strings.ToUpper(testHash)
	other := click(dm, "Cj0KCQother")
	other.Ads.ConversionAction = "111"
	ds := []forwarder.Delivery{click(dm, "Cj0KCQone"), bad, other, click(dm, "Cj0KCQtwo"), click(forwarder.AdsBackendGoogleAdsAPI, "Cj0KCQads")}

	errs, recs := e.sender.SendBatchReceipts(context.Background(), ds)
	if got, want := outcomes(errs), []string{"ok", "permanent/INVALID_USER_IDENTIFIER", "ok", "ok", "ok"}; !slices.Equal(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	id := recs[0].RequestID
	if id == "" {
		t.Fatal("no request id for an accepted delivery")
	}
	// The refused event was left out of the second request: the others
	// are at positions 0, 1, 2 of its events[], actions in first-seen order.
	want := []forwarder.Receipt{{RequestID: id, Index: 0, Dest: 0}, {}, {RequestID: id, Index: 1, Dest: 1}, {RequestID: id, Index: 2, Dest: 0}, {}}
	if !slices.Equal(recs, want) {
		t.Errorf("receipts %+v, want %+v", recs, want)
	}
}
