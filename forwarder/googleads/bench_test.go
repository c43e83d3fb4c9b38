package googleads_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/googleads"
)

// fullBatch is 2,000 click conversions, a full request for either API.
func fullBatch(backend string) []*forwarder.AdsConversion {
	convs := make([]*forwarder.AdsConversion, 2000)
	for i := range convs {
		convs[i] = click(backend, fmt.Sprintf("Cj0KCQbench%06d", i)).Ads
	}
	return convs
}

// BenchmarkBuildIngestRequest builds and encodes one full Data Manager
// events:ingest request; b.N counts requests, so ns/op / 2000 is the cost
// of one conversion.
func BenchmarkBuildIngestRequest(b *testing.B) {
	convs := fullBatch(forwarder.AdsBackendDataManager)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(googleads.BuildIngestRequest(convs, false)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildUploadRequest builds and encodes one full Google Ads API
// uploadClickConversions request.
func BenchmarkBuildUploadRequest(b *testing.B) {
	convs := fullBatch(forwarder.AdsBackendGoogleAdsAPI)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := googleads.BuildUploadRequest(convs, false); err != nil {
			b.Fatal(err)
		}
	}
}
