package emulator_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/emulator"
)

// TestBatchSenderToEmulator: the GA4 sender's batches are requests Google
// keeps whole: every event recorded once, at its own time, at most 25 per
// request, each request for one client id and its user properties.
func TestBatchSenderToEmulator(t *testing.T) {
	s := newServer(emulator.Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	sender := newSender(srv.URL, srv.Client())
	ctx := context.Background()

	ds := realisticDeliveries()
	for i := range 40 {
		at := testNow.Add(-time.Duration(i+1) * time.Minute)
		client := testClientID
		var props map[string]any
		if i%2 == 1 {
			client = "987654321.1700000000"
			props = map[string]any{"caller_country": "Australia", "lifetime_calls": i}
		}
		ds = append(ds, forwarder.Delivery{
			ID: forwarder.DeliveryID(fmt.Sprintf("CB%02d", i), "every-call", "web"), CallSid: fmt.Sprintf("CB%02d", i),
			Rule: "every-call", Destination: "web", Type: forwarder.DestinationGA4, CallTime: at,
			GA4: &forwarder.GA4Event{MeasurementID: testMID, ClientID: client, Name: "phone_call",
				Params: map[string]any{"i": i}, UserProperties: props, Time: at},
		})
	}
	msgs, errs := sender.ValidateBatch(ctx, ds)
	for i := range ds {
		if errs[i] != nil || len(msgs[i]) != 0 {
			t.Errorf("ValidateBatch %s: want no findings, got %v %v", ds[i].ID, msgs[i], errs[i])
		}
	}
	for i, err := range sender.SendBatch(ctx, ds) {
		if err != nil {
			t.Errorf("SendBatch %s: %v", ds[i].ID, err)
		}
	}
	if dropped := s.GA4Dropped(); len(dropped) != 0 {
		t.Fatalf("want nothing dropped, got %+v", dropped)
	}
	events := s.GA4Events()
	if len(events) != len(ds) {
		t.Fatalf("want %d events recorded, got %d", len(ds), len(events))
	}
	type reqInfo struct {
		n      int
		client string
		props  string
	}
	reqs := map[int64]*reqInfo{}
	for _, e := range events {
		r, ok := reqs[e.Request]
		if !ok {
			r = &reqInfo{client: e.ClientID, props: fmt.Sprint(e.UserProperties)}
			reqs[e.Request] = r
		}
		r.n++
		if e.ClientID != r.client || fmt.Sprint(e.UserProperties) != r.props {
			t.Errorf("request %d mixes client ids or user properties", e.Request)
		}
	}
	for id, r := range reqs {
		if r.n > 25 {
			t.Errorf("request %d carried %d events, want at most 25", id, r.n)
		}
	}
	// 25 events of the first client id (the realistic five and twenty),
	// then one request per user property set of the other.
	if want := 1 + 20; len(reqs) != want {
		t.Errorf("%d requests, want %d", len(reqs), want)
	}
	// Each event at its own time: the call's, or the receipt for the one
	// whose time is in the future.
	byID := map[string]forwarder.Delivery{}
	for _, d := range ds {
		if i, ok := d.GA4.Params["i"]; ok {
			byID[fmt.Sprint(i)] = d
		}
	}
	for _, e := range events {
		i, ok := e.Params["i"]
		if !ok {
			continue
		}
		d := byID[fmt.Sprint(i)]
		if e.TimestampMicros != d.GA4.Time.UnixMicro() {
			t.Errorf("event %v: timestamp_micros %d, want its own time %d", i, e.TimestampMicros, d.GA4.Time.UnixMicro())
		}
	}
}

// TestBatchSenderFindingsPerEvent: an event Google would drop is flagged
// by the validation server for its own delivery only, and dropped alone.
func TestBatchSenderFindingsPerEvent(t *testing.T) {
	s := newServer(emulator.Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	sender := newSender(srv.URL, srv.Client())
	ctx := context.Background()

	ds := realisticDeliveries()
	ds[2].GA4.Name = "page_view" // reserved
	msgs, errs := sender.ValidateBatch(ctx, ds)
	for i := range ds {
		if errs[i] != nil {
			t.Fatalf("ValidateBatch %s: %v", ds[i].ID, errs[i])
		}
		if want := i == 2; (len(msgs[i]) > 0) != want {
			t.Errorf("delivery %d: findings %v, want findings: %v", i, msgs[i], want)
		}
	}
	if len(msgs[2]) != 1 || msgs[2][0].ValidationCode != "NAME_RESERVED" || msgs[2][0].FieldPath != "events[2].name" {
		t.Errorf("the reserved event: want NAME_RESERVED at events[2].name, got %v", msgs[2])
	}
	for i, err := range sender.SendBatch(ctx, ds) {
		if err != nil {
			t.Errorf("SendBatch %s: %v", ds[i].ID, err)
		}
	}
	if n := len(s.GA4Events()); n != len(ds)-1 {
		t.Errorf("%d events kept, want %d", n, len(ds)-1)
	}
	if d := s.GA4Dropped(); len(d) != 1 || d[0].Name != "page_view" {
		t.Errorf("dropped %+v, want the reserved event alone", d)
	}
}
