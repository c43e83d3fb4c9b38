package bolt

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// TestTallyKeysWithoutDecoding: the keys Accept and Replan count a new
// job under from the delivery in hand (pendingKeys) are the keys its
// encoded record counts under, and a record whose delivery is read once
// for two records, or not at all (a settlement, with the delivery in
// hand), counts as when each is read whole.
func TestTallyKeysWithoutDecoding(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	deliveries := []forwarder.Delivery{
		{ID: "CA1/r/web", CallSid: "CA1", Rule: "r", Destination: "web", Type: forwarder.DestinationGA4, CallTime: at,
			GA4: &forwarder.GA4Event{MeasurementID: "G-1", ClientID: "1.2", Name: "call", Params: map[string]any{"destination": "not this", "n": 1}, Time: at}},
		{ID: "CA1/r/ads", CallSid: "CA1", Rule: "r", Destination: "ads", Type: forwarder.DestinationGoogleAds, CallTime: at,
			Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager}},
		{ID: "CA1/r/api", CallSid: "CA1", Rule: "r", Destination: "api", Type: forwarder.DestinationGoogleAds, CallTime: at,
			Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendGoogleAdsAPI}},
	}
	for _, d := range deliveries {
		t.Run(d.Destination, func(t *testing.T) {
			pending, err := json.Marshal(record{Job: store.Job{Delivery: d, DueAt: at}, State: store.JobPending})
			if err != nil {
				t.Fatal(err)
			}
			whole, err := tallyKeys(pending)
			if err != nil {
				t.Fatal(err)
			}
			if got := pendingKeys(d); !slices.Equal(got, whole) {
				t.Errorf("pendingKeys = %q, want %q (the record's)", got, whole)
			}
			done := record{Job: store.Job{Delivery: d, Attempts: 1, DueAt: at}, State: store.JobDone, Settled: at}
			if d.Ads != nil && d.Ads.Backend == forwarder.AdsBackendDataManager {
				done.Job.Verdict = &forwarder.Verdict{Outcome: forwarder.OutcomeCounted}
			}
			doneJSON, err := json.Marshal(done)
			if err != nil {
				t.Fatal(err)
			}
			wantDone, err := tallyKeys(doneJSON)
			if err != nil {
				t.Fatal(err)
			}
			first, fd, err := decodeTally(pending, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			second, _, err := decodeTally(doneJSON, &first, fd)
			if err != nil {
				t.Fatal(err)
			}
			if got := second.keys(); !slices.Equal(got, wantDone) || slices.Equal(got, whole) {
				t.Errorf("done keys read with the pending record's delivery = %q, want %q (and not the pending %q)", got, wantDone, whole)
			}
			// A settlement counts from the envelope it decoded and the
			// delivery in hand.
			for _, c := range []struct {
				v    []byte
				want []string
			}{{pending, whole}, {doneJSON, wantDone}} {
				var rec rawRecord
				if err := decodeRawRecord(c.v, &rec); err != nil {
					t.Fatal(err)
				}
				if got := rec.tallyKeys(deliveryTally(d)); !slices.Equal(got, c.want) {
					t.Errorf("%s record: keys from its envelope and the delivery in hand = %q, want %q", rec.State, got, c.want)
				}
			}
		})
	}
}
