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
	body := fmt.Sprintf(`{"client_id":%q,"timestamp_micros":%d,"user_properties":{"caller_country":{"value":"Australia"},"lifetime_calls":{"value":3}},"events":[
		{"name":"phone_call","params":{"duration":312,"outcome":"ANSWERED","engagement_time_msec":1}},
		{"name":"phone_call_qualified","timestamp_micros":%d,"params":{"value":120.5,"currency":"AUD"}}]}`,
		testClientID, micros(-time.Hour), micros(-30*time.Minute))

	for range 2 {
		rec := serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, body)
		if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Fatalf("collect: want 204 with no body, got %d %q", rec.Code, rec.Body)
		}
	}
	props := map[string]any{"caller_country": "Australia", "lifetime_calls": 3.0}
	var want []emulator.GA4Event
	for request := int64(1); request <= 2; request++ {
		want = append(want,
			emulator.GA4Event{MeasurementID: testMID, APISecret: testSecret, ClientID: testClientID, TimestampMicros: micros(-time.Hour),
				Name: "phone_call", Params: map[string]any{"duration": 312.0, "outcome": "ANSWERED", "engagement_time_msec": 1.0},
				UserProperties: props, Request: request, ReceivedAt: testNow},
			emulator.GA4Event{MeasurementID: testMID, APISecret: testSecret, ClientID: testClientID, TimestampMicros: micros(-30 * time.Minute),
				Name: "phone_call_qualified", Params: map[string]any{"value": 120.5, "currency": "AUD"},
				UserProperties: props, Request: request, ReceivedAt: testNow})
	}
	if got := s.GA4Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("GA4Events:\nwant %+v\ngot  %+v", want, got)
	}
	if got := s.GA4Dropped(); len(got) != 0 {
		t.Errorf("GA4Dropped: want none, got %+v", got)
	}
	s.Reset()
	serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, validBody())
	if got := s.GA4Events(); len(got) != 1 || got[0].Request != 1 {
		t.Errorf("after Reset: want one event of request 1, got %+v", got)
	}
}

// TestGA4CollectBatch: a request carries up to 25 events, each kept or
// dropped on its own findings; 26 drop the whole request, as Google does.
func TestGA4CollectBatch(t *testing.T) {
	// batch returns a request body with n events named event_<i>, each
	// with its own time i minutes ago; the event at bad is reserved.
	batch := func(n, bad int) string {
		evs := make([]string, n)
		for i := range evs {
			name := fmt.Sprintf("event_%02d", i)
			if i == bad {
				name = "page_view"
			}
			evs[i] = fmt.Sprintf(`{"name":%q,"timestamp_micros":%d,"params":{"i":%d}}`, name, micros(-time.Duration(i)*time.Minute), i)
		}
		return fmt.Sprintf(`{"client_id":%q,"timestamp_micros":%d,"events":[%s]}`, testClientID, micros(-time.Hour), strings.Join(evs, ","))
	}
	tests := []struct {
		name      string
		body      string
		wantKept  int
		wantDrops []finding
	}{
		{"25 events", batch(25, -1), 25, nil},
		{"25 events, one reserved", batch(25, 7), 24, []finding{{"events[7].name", "NAME_RESERVED"}}},
		{"26 events", batch(26, -1), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(emulator.Options{})
			serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, validBody())
			if rec := serve(s.Handler(), http.MethodPost, "/mp/collect"+validQuery, tt.body); rec.Code != http.StatusNoContent {
				t.Fatalf("collect: want 204, got %d", rec.Code)
			}
			kept := s.GA4Events()[1:]
			if len(kept) != tt.wantKept {
				t.Fatalf("kept %d events, want %d", len(kept), tt.wantKept)
			}
			for _, e := range kept {
				i := int(e.Params["i"].(float64))
				if e.Request != 2 || e.TimestampMicros != micros(-time.Duration(i)*time.Minute) {
					t.Errorf("event %d: request %d at %d, want request 2 at its own time %d", i, e.Request, e.TimestampMicros, micros(-time.Duration(i)*time.Minute))
				}
			}
			drops := s.GA4Dropped()
			if tt.wantKept == 0 {
				if len(drops) != 26 {
					t.Fatalf("dropped %d events, want all 26", len(drops))
				}
				for _, d := range drops {
					if got := findings(d.Messages); !reflect.DeepEqual(got, []finding{{"events", "EXCEEDED_MAX_ENTITIES"}}) || d.Request != 2 {
						t.Errorf("drop %s of request %d: findings %v, want events EXCEEDED_MAX_ENTITIES of request 2", d.Name, d.Request, got)
					}
				}
				return
			}
			var got []finding
			for _, d := range drops {
				got = append(got, findings(d.Messages)...)
			}
			if !reflect.DeepEqual(got, tt.wantDrops) {
				t.Errorf("dropped: want %v, got %v", tt.wantDrops, got)
			}
		})
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
