package ua

import (
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder"
)

// TestBuildPayloadCleansTexts: control characters and broken bytes in a
// call's free text never reach the collector.
func TestBuildPayloadCleansTexts(t *testing.T) {
	d := testDelivery(func(d *forwarder.Delivery) {
		d.UA.Label = "ANSWERED\x00\r\n"
		d.UA.Campaign = map[string]string{"cn": "spring\ufffd\x1b"}
	})
	v, err := BuildPayload(d, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Get("el")+"|"+v.Get("cn"), "ANSWERED  |spring"; got != want {
		t.Errorf("el|cn = %q, want %q", got, want)
	}
	if enc := encode(v); strings.Contains(enc, "%00") || strings.Contains(enc, "%1B") || strings.Contains(enc, "%EF%BF%BD") {
		t.Errorf("payload holds a control character: %s", enc)
	}
}
