package googleads_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/emulator"
)

// TestTwinsInOneBatch sends, in one batch, conversions Google cannot tell
// apart (same click or caller, action and time, or same order id): each
// twin must end as its original does, as it would in a request of its
// own, and never as a refusal of the batch's shape.
func TestTwinsInOneBatch(t *testing.T) {
	api, dm := forwarder.AdsBackendGoogleAdsAPI, forwarder.AdsBackendDataManager
	// twin returns d under another delivery id and transaction id: another
	// rule (or call) planning the same conversion.
	twin := func(d forwarder.Delivery, rule string) forwarder.Delivery {
		a := *d.Ads
		a.TransactionID = d.Ads.TransactionID + "-" + rule
		d.Ads, d.Rule = &a, rule
		d.ID = forwarder.DeliveryID(d.CallSid, rule, d.Destination)
		return d
	}
	later := func(d forwarder.Delivery) forwarder.Delivery {
		a := *d.Ads
		a.Time = a.Time.Add(time.Second)
		d.Ads = &a
		return twin(d, "later")
	}
	otherAction := func(d forwarder.Delivery) forwarder.Delivery {
		a := *d.Ads
		a.ConversionAction = "111111111"
		d.Ads = &a
		return twin(d, "other-action")
	}
	sameOrder := func(d forwarder.Delivery, gclid string) forwarder.Delivery {
		o := click(d.Ads.Backend, gclid)
		o.Ads.TransactionID = d.Ads.TransactionID
		return o
	}
	tests := []struct {
		name string
		ds   []forwarder.Delivery
		want []string
		// clicks and calls Google recorded, and requests sent.
		clicks, calls, requests int
	}{
		{"click twins", []forwarder.Delivery{click(api, "Cj0KCQa"), twin(click(api, "Cj0KCQa"), "r2"), click(api, "Cj0KCQb")},
			[]string{"ok", "ok", "ok"}, 2, 0, 1},
		{"call twins", []forwarder.Delivery{call(api, "+61412345678"), twin(call(api, "+61412345678"), "r2"), twin(call(api, "+61412345678"), "r3")},
			[]string{"ok", "ok", "ok"}, 0, 1, 1},
		{"same order id", []forwarder.Delivery{click(api, "Cj0KCQa"), sameOrder(click(api, "Cj0KCQa"), "Cj0KCQb")},
			[]string{"ok", "ok"}, 1, 0, 1},
		{"twin of a refused conversion", []forwarder.Delivery{click(api, "Cj0KCQexpired"), twin(click(api, "Cj0KCQexpired"), "r2"), click(api, "Cj0KCQc")},
			[]string{"rejected/EXPIRED_EVENT", "rejected/EXPIRED_EVENT", "ok"}, 1, 0, 1},
		{"twin of a conversion Google already has", []forwarder.Delivery{click(api, "Cj0KCQdone"), twin(click(api, "Cj0KCQdone"), "r2")},
			[]string{"ok", "ok"}, 1, 0, 2},
		{"not twins: another time or action", []forwarder.Delivery{click(api, "Cj0KCQa"), later(click(api, "Cj0KCQa")), otherAction(click(api, "Cj0KCQa"))},
			[]string{"ok", "ok", "ok"}, 3, 0, 1},
		{"data manager click twins", []forwarder.Delivery{click(dm, "Cj0KCQa"), twin(click(dm, "Cj0KCQa"), "r2")},
			[]string{"ok", "ok"}, 0, 0, 1},
		{"data manager call twins", []forwarder.Delivery{call(dm, "+61412345678"), twin(call(dm, "+61412345678"), "r2")},
			[]string{"ok", "ok"}, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, emulator.AdsConfig{ExpiredGCLIDs: []string{"Cj0KCQexpired"}, KnownActions: []string{action, "111111111"}}, nil)
			ctx := context.Background()
			if tt.ds[0].Ads.GCLID == "Cj0KCQdone" {
				if err := e.sender.Send(ctx, click(api, "Cj0KCQdone")); err != nil {
					t.Fatalf("first upload: %v", err)
				}
			}
			errs := e.sender.SendBatch(ctx, tt.ds)
			if got := outcomes(errs); !slices.Equal(got, tt.want) {
				t.Fatalf("outcomes %v, want %v", got, tt.want)
			}
			r := e.emu.Recording()
			if len(r.ClickConversions) != tt.clicks || len(r.CallConversions) != tt.calls {
				t.Errorf("Google recorded %d clicks and %d calls, want %d and %d", len(r.ClickConversions), len(r.CallConversions), tt.clicks, tt.calls)
			}
			sent := r.Requests[emulator.EndpointUploadClicks] + r.Requests[emulator.EndpointUploadCalls] + r.Requests[emulator.EndpointIngestEvents]
			if sent != tt.requests {
				t.Errorf("%d requests, want %d", sent, tt.requests)
			}
			if tt.ds[0].Ads.Backend == dm && len(r.DataManagerEvents) != len(tt.ds) {
				// The Data Manager API dedups by transaction id only: the
				// twins carry their own, as they would sent apart.
				t.Errorf("Data Manager has %d events, want %d", len(r.DataManagerEvents), len(tt.ds))
			}
		})
	}
}
