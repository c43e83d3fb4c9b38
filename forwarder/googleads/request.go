package googleads

import (
	"fmt"

	"github.com/callforward/callforward/forwarder"
)

// BuildRequest returns the request the Sender would send for d alone:
// the backend's method ("events:ingest", "uploadClickConversions" or
// "uploadCallConversions") and the JSON body, after the same text
// cleaning and local checks. A delivery the local checks refuse gets
// their error; the clock is not checked (the request is for reading).
func BuildRequest(d forwarder.Delivery) (method string, body []byte, err error) {
	a := d.Ads
	if a == nil {
		return "", nil, forwarder.Permanent("NOT_A_GOOGLE_ADS_DELIVERY", fmt.Errorf("googleads: delivery %s has no Google Ads conversion", d.ID))
	}
	if err := Validate(a); err != nil {
		return "", nil, err
	}
	convs := []*forwarder.AdsConversion{d.CleanTexts().Ads}
	if a.Backend == forwarder.AdsBackendDataManager {
		body, err = AppendIngestRequest(nil, convs, false)
		if err != nil {
			return "", nil, forwarder.Permanent("encode", fmt.Errorf("googleads: encode events:ingest: %w", err))
		}
		return "events:ingest", body, nil
	}
	return BuildUploadRequest(convs, false)
}
