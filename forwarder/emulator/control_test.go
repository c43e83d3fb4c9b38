package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// call makes one request to srv and returns the status and the body.
func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func recording(t *testing.T, srv *httptest.Server) emulator.GA4Recording {
	t.Helper()
	status, body := call(t, srv, http.MethodGet, "/emulator/ga4/events", "")
	if status != http.StatusOK {
		t.Fatalf("GET /emulator/ga4/events: want 200, got %d", status)
	}
	var rec emulator.GA4Recording
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return rec
}

func TestControlEndpoints(t *testing.T) {
	initial := emulator.Faults{Delay: time.Nanosecond}
	s := newServer(emulator.Options{Faults: initial})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	if status, body := call(t, srv, http.MethodGet, "/emulator/ga4/events", ""); string(body) != "{\"events\":[],\"dropped\":[]}\n" {
		t.Errorf("empty recording: want empty arrays, got %d %s", status, body)
	}

	call(t, srv, http.MethodPost, "/mp/collect"+validQuery, validBody())
	call(t, srv, http.MethodPost, "/mp/collect"+validQuery, event("page_view", "{}"))
	rec := recording(t, srv)
	if len(rec.Events) != 1 || rec.Events[0].Name != "phone_call" || rec.Events[0].ClientID != testClientID ||
		rec.Events[0].APISecret != testSecret || rec.Events[0].TimestampMicros != micros(-time.Hour) {
		t.Errorf("events: want the phone_call event as sent, got %+v", rec.Events)
	}
	if len(rec.Dropped) != 1 || rec.Dropped[0].Name != "page_view" || rec.Dropped[0].Messages[0].ValidationCode != "NAME_RESERVED" {
		t.Errorf("dropped: want page_view with NAME_RESERVED, got %+v", rec.Dropped)
	}

	status, body := call(t, srv, http.MethodGet, "/emulator/faults", "")
	if status != http.StatusOK || !strings.Contains(string(body), `"delay":"1ns"`) {
		t.Errorf("GET faults: want 200 with the initial faults, got %d %s", status, body)
	}

	const put = `{"error_rate":0.25,"rate_limit_rate":0.5,"timeout":"2s"}`
	if status, body := call(t, srv, http.MethodPut, "/emulator/faults", put); status != http.StatusOK {
		t.Fatalf("PUT faults: want 200, got %d %s", status, body)
	}
	want := emulator.Faults{ErrorRate: 0.25, RateLimitRate: 0.5, Timeout: 2 * time.Second}
	if got := s.Faults(); got != want {
		t.Errorf("after PUT: want %+v, got %+v", want, got)
	}
	for _, bad := range []string{`{"error_rate":2}`, `not json`, `{"delay":"-1s"}`, `{"timeout":"x"}`} {
		if status, body := call(t, srv, http.MethodPut, "/emulator/faults", bad); status != http.StatusBadRequest || !strings.Contains(string(body), `"error"`) {
			t.Errorf("PUT %s: want 400 with an error, got %d %s", bad, status, body)
		}
	}
	if got := s.Faults(); got != want {
		t.Errorf("refused PUTs must change nothing: want %+v, got %+v", want, got)
	}

	if status, _ := call(t, srv, http.MethodGet, "/emulator/reset", ""); status != http.StatusMethodNotAllowed {
		t.Errorf("GET reset: want 405, got %d", status)
	}
	if status, _ := call(t, srv, http.MethodPost, "/emulator/reset", ""); status != http.StatusNoContent {
		t.Errorf("POST reset: want 204, got %d", status)
	}
	if rec := recording(t, srv); len(rec.Events)+len(rec.Dropped) != 0 {
		t.Errorf("after reset: want nothing recorded, got %+v", rec)
	}
	if got := s.Faults(); got != initial {
		t.Errorf("after reset: want the initial faults %+v, got %+v", initial, got)
	}
}
