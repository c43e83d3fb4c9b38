package emulator_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

func TestNewDefaultsToTheWallClock(t *testing.T) {
	s := emulator.New(emulator.Options{})
	body := fmt.Sprintf(`{"client_id":%q,"timestamp_micros":%d,"events":[{"name":"phone_call"}]}`,
		testClientID, time.Now().Add(-time.Hour).UnixMicro())
	if rec := serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, body); rec.Code != http.StatusNoContent {
		t.Fatalf("collect: want 204, got %d", rec.Code)
	}
	if n := len(s.GA4Events()); n != 1 {
		t.Errorf("an hour-old event on the wall clock: want it kept, got %d events and %+v dropped", n, s.GA4Dropped())
	}
}

func TestResetForgetsRecordings(t *testing.T) {
	s := newServer(emulator.Options{})
	serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, validBody())
	serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, "{}")
	if len(s.GA4Events()) != 1 || len(s.GA4Dropped()) != 1 {
		t.Fatalf("before Reset: want 1 kept and 1 dropped, got %d and %d", len(s.GA4Events()), len(s.GA4Dropped()))
	}
	s.Reset()
	if len(s.GA4Events()) != 0 || len(s.GA4Dropped()) != 0 {
		t.Errorf("after Reset: want nothing recorded, got %d and %d", len(s.GA4Events()), len(s.GA4Dropped()))
	}
}
