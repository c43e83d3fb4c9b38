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

// BenchmarkIngestEncoding encodes one full Data Manager events:ingest
// request (2,000 click conversions) both ways, in the same run: "client"
// builds the generated client's request and encodes it as the client
// does, "direct" is AppendIngestRequest into a reused buffer, as the
// sender writes it. b.N counts requests, so ns/op / 2000 is the cost of
// one conversion.
func BenchmarkIngestEncoding(b *testing.B) {
	convs := fullBatch(forwarder.AdsBackendDataManager)
	body, err := googleads.AppendIngestRequest(nil, convs, false)
	if err != nil {
		b.Fatal(err)
	}
	size := int64(len(body))
	b.Run("client", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(googleads.BuildIngestRequest(convs, false)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		var buf []byte
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = googleads.AppendIngestRequest(buf[:0], convs, false); err != nil {
				b.Fatal(err)
			}
		}
	})
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
