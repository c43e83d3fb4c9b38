package ga4

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// TestSendCleansTexts: control characters, broken bytes and lone
// surrogates in a call's free text never reach GA4, alone or in a batch.
func TestSendCleansTexts(t *testing.T) {
	dirty := func(d *forwarder.Delivery) {
		d.GA4.Params = map[string]any{"shop": "Shop\x00Front\x07", "note": "half \ufffd surrogate \xff", "n": 3}
		d.GA4.UserProperties = map[string]any{"office": "Syd\x00ney"}
	}
	at := testNow.Add(-time.Minute)
	one := batchDelivery("CA1", "phone_call", "1.1", at, dirty)
	batch := []forwarder.Delivery{one, batchDelivery("CA1", "qualified_call", "1.1", at, dirty)}
	rec := newRecorder(t, nil)
	s := newTestSender(rec.srv.URL, nil)
	if err := s.Send(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	for i, err := range s.SendBatch(context.Background(), batch) {
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	reqs := rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for i, r := range reqs {
		for _, bad := range []string{`\u0000`, `\u0007`, `\ufffd`, "\ufffd"} {
			if strings.Contains(string(r.body), bad) {
				t.Errorf("request %d holds %q: %s", i, bad, r.body)
			}
		}
		b := decodeBody(t, r.body)
		if got := b.Events[0].Params["shop"]; got != "ShopFront" {
			t.Errorf("request %d: shop = %q, want ShopFront", i, got)
		}
		if got := b.UserProperties["office"]; got == nil || got.(map[string]any)["value"] != "Sydney" {
			t.Errorf("request %d: office = %v, want Sydney", i, got)
		}
	}
}
