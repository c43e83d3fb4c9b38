package emulator_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

func TestGA4CollectRecordsWhatGoogleKeeps(t *testing.T) {
	s := newServer(emulator.Options{})
	body := fmt.Sprintf(`{"client_id":%q,"timestamp_micros":%d,"events":[
		{"name":"phone_call","params":{"duration":312,"outcome":"ANSWERED","engagement_time_msec":1}},
		{"name":"phone_call_qualified","timestamp_micros":%d,"params":{"value":120.5,"currency":"AUD"}}]}`,
		testClientID, micros(-time.Hour), micros(-30*time.Minute))

	rec := serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, body)
	if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
		t.Fatalf("collect: want 204 with no body, got %d %q", rec.Code, rec.Body)
	}
	want := []emulator.GA4Event{
		{MeasurementID: testMID, APISecret: testSecret, ClientID: testClientID, TimestampMicros: micros(-time.Hour),
			Name: "phone_call", Params: map[string]any{"duration": 312.0, "outcome": "ANSWERED", "engagement_time_msec": 1.0}, ReceivedAt: testNow},
		{MeasurementID: testMID, APISecret: testSecret, ClientID: testClientID, TimestampMicros: micros(-30 * time.Minute),
			Name: "phone_call_qualified", Params: map[string]any{"value": 120.5, "currency": "AUD"}, ReceivedAt: testNow},
	}
	if got := s.GA4Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("GA4Events:\nwant %+v\ngot  %+v", want, got)
	}
	if got := s.GA4Dropped(); len(got) != 0 {
		t.Errorf("GA4Dropped: want none, got %+v", got)
	}
}

func TestGA4CollectDropsSilently(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		body      string
		wantKept  []string // event names
		wantDrops []drop
	}{
		{name: "no api_secret drops the request", query: "?measurement_id=" + testMID, body: validBody(),
			wantDrops: []drop{{"phone_call", []finding{{"api_secret", "VALUE_REQUIRED"}}}}},
		{name: "reserved name drops that event only", query: validQuery,
			body:      fmt.Sprintf(`{"client_id":%q,"events":[{"name":"page_view"},{"name":"phone_call"}]}`, testClientID),
			wantKept:  []string{"phone_call"},
			wantDrops: []drop{{"page_view", []finding{{"events[0].name", "NAME_RESERVED"}}}}},
		{name: "a request-level finding drops every event", query: validQuery,
			body: `{"events":[{"name":"phone_call"},{"name":"phone_call_qualified"}]}`,
			wantDrops: []drop{
				{"phone_call", []finding{{"client_id", "VALUE_REQUIRED"}}},
				{"phone_call_qualified", []finding{{"client_id", "VALUE_REQUIRED"}}},
			}},
		{name: "unreadable body gives one drop without a name", query: validQuery, body: "not json",
			wantDrops: []drop{{"", []finding{{"", "VALUE_INVALID"}}}}},
		{name: "too old", query: validQuery,
			body:      fmt.Sprintf(`{"client_id":%q,"timestamp_micros":%d,"events":[{"name":"phone_call"}]}`, testClientID, micros(-73*time.Hour)),
			wantDrops: []drop{{"phone_call", []finding{{"timestamp_micros", "VALUE_OUT_OF_BOUNDS"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(emulator.Options{})
			rec := serve(s.Handler(), http.MethodPost, "/mp/collect"+tt.query, tt.body)
			if rec.Code != http.StatusNoContent {
				t.Fatalf("collect: want 204 even for an invalid request, got %d", rec.Code)
			}
			kept := []string{}
			for _, e := range s.GA4Events() {
				kept = append(kept, e.Name)
			}
			if want := append([]string{}, tt.wantKept...); !reflect.DeepEqual(kept, want) {
				t.Errorf("kept: want %v, got %v", want, kept)
			}
			drops := []drop{}
			for _, d := range s.GA4Dropped() {
				drops = append(drops, drop{d.Name, findings(d.Messages)})
				if !d.ReceivedAt.Equal(testNow) {
					t.Errorf("drop received at %v, want %v", d.ReceivedAt, testNow)
				}
			}
			if !reflect.DeepEqual(drops, tt.wantDrops) {
				t.Errorf("dropped:\nwant %v\ngot  %v", tt.wantDrops, drops)
			}
			// The debug endpoint reports the same findings (but the secret).
			debug := debugFindings(t, s.Handler(), tt.query, tt.body)
			var want []finding
			for _, d := range tt.wantDrops {
				for _, f := range d.Findings {
					if f.Path != "api_secret" && !containsFinding(want, f) {
						want = append(want, f)
					}
				}
			}
			if want == nil {
				want = []finding{}
			}
			if !reflect.DeepEqual(debug, want) {
				t.Errorf("debug findings: want %v, got %v", want, debug)
			}
		})
	}
}

type drop struct {
	Name     string
	Findings []finding
}

func containsFinding(fs []finding, f finding) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

func TestGA4Transport(t *testing.T) {
	big := validBody()
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
	}{
		{"GET collect", http.MethodGet, "/mp/collect" + validQuery, "", http.StatusMethodNotAllowed},
		{"PUT debug", http.MethodPut, "/debug/mp/collect" + validQuery, validBody(), http.StatusMethodNotAllowed},
		{"collect body of 130 kB", http.MethodPost, "/mp/collect" + validQuery, big + strings.Repeat(" ", 130_000-len(big)), http.StatusRequestEntityTooLarge},
		{"debug body of 130 kB", http.MethodPost, "/debug/mp/collect" + validQuery, big + strings.Repeat(" ", 130_000-len(big)), http.StatusRequestEntityTooLarge},
		{"collect body just below 130 kB", http.MethodPost, "/mp/collect" + validQuery, big + strings.Repeat(" ", 129_999-len(big)), http.StatusNoContent},
		{"unknown path", http.MethodPost, "/mp/collectx" + validQuery, validBody(), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(emulator.Options{})
			rec := serve(s.Handler(), tt.method, tt.path, tt.body)
			if rec.Code != tt.wantStatus {
				t.Fatalf("want %d, got %d: %s", tt.wantStatus, rec.Code, rec.Body)
			}
			wantKept := 0
			if tt.wantStatus == http.StatusNoContent {
				wantKept = 1
			}
			if n := len(s.GA4Events()) + len(s.GA4Dropped()); n != wantKept {
				t.Errorf("recorded %d events, want %d", n, wantKept)
			}
		})
	}
}

func TestGA4AnyHost(t *testing.T) {
	s := newServer(emulator.Options{})
	for _, host := range []string{"www.google-analytics.com", "region1.google-analytics.com", "127.0.0.1:8080"} {
		rec := serve(s.Handler(), http.MethodPost, "http://"+host+"/mp/collect"+validQuery, validBody())
		if rec.Code != http.StatusNoContent {
			t.Errorf("host %s: want 204, got %d", host, rec.Code)
		}
	}
	if n := len(s.GA4Events()); n != 3 {
		t.Errorf("want 3 events recorded, got %d", n)
	}
}

func TestGA4RecordsThousands(t *testing.T) {
	s := newServer(emulator.Options{})
	const n = 5000
	for i := range n {
		body := fmt.Sprintf(`{"client_id":"%d.1700000000","events":[{"name":"phone_call","params":{"i":%d}}]}`, i, i)
		if rec := serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, body); rec.Code != http.StatusNoContent {
			t.Fatalf("request %d: want 204, got %d", i, rec.Code)
		}
	}
	events := s.GA4Events()
	if len(events) != n {
		t.Fatalf("want %d events, got %d", n, len(events))
	}
	for i, e := range events {
		if e.Params["i"] != float64(i) {
			t.Fatalf("event %d: want it in arrival order, got params %v", i, e.Params)
		}
	}
}

func BenchmarkGA4Collect(b *testing.B) {
	s := newServer(emulator.Options{})
	body := validBody()
	b.ReportAllocs()
	for b.Loop() {
		serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, body)
	}
}
