package googleads_test

import (
	"context"
	"testing"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/emulator"
)

// TestSendRefusesControlCharacters: a control character in a click id (a
// sender bug upstream) never reaches Google, on either backend: the click
// id is refused before anything is sent, not sent altered.
func TestSendRefusesControlCharacters(t *testing.T) {
	for _, backend := range []string{forwarder.AdsBackendGoogleAdsAPI, forwarder.AdsBackendDataManager} {
		t.Run(backend, func(t *testing.T) {
			e := newEnv(t, emulator.AdsConfig{}, nil)
			err := e.sender.Send(context.Background(), click(backend, "Cj0KCQ\x00clean\x07"))
			if got := outcome(err); got != "permanent/UNPARSEABLE_GCLID" {
				t.Errorf("outcome %s, want permanent/UNPARSEABLE_GCLID", got)
			}
			r := e.emu.Recording()
			if n := r.Requests[emulator.EndpointUploadClicks] + r.Requests[emulator.EndpointIngestEvents]; n != 0 {
				t.Errorf("%d requests reached Google, want 0", n)
			}
		})
	}
}
