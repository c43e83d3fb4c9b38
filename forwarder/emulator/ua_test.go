package emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

const (
	testTID      = "UA-12345678-1"
	validUAHit   = "v=1&tid=" + testTID + "&cid=" + testClientID + "&t=event&ec=phone&ea=call&el=ANSWERED&ev=120&ni=1&qt=1200000&cn=brand&cs=google&cm=cpc&z=42"
	gifSignature = "GIF89a"
)

// uaFinding is what a test compares of a parser message.
type uaFinding struct{ Type, Param, Code string }

// withParam returns validUAHit with k set to v ("" removes it).
func withParam(k, v string) string {
	if v == "" {
		return without(k)
	}
	q, _ := url.ParseQuery(validUAHit)
	q.Set(k, v)
	return q.Encode()
}

// without returns validUAHit without the parameters keys.
func without(keys ...string) string {
	q, _ := url.ParseQuery(validUAHit)
	for _, k := range keys {
		q.Del(k)
	}
	return q.Encode()
}

func TestUACollectRecordsWhatTheCollectorKeeps(t *testing.T) {
	s := newServer(emulator.Options{})
	rec := serve(s.Handler(), http.MethodPost, "/collect", validUAHit)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/gif" || !bytes.HasPrefix(rec.Body.Bytes(), []byte(gifSignature)) {
		t.Fatalf("collect: want 200 with a GIF, got %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	value := int64(120)
	want := []emulator.UAHit{{
		TrackingID: testTID, ClientID: testClientID, HitType: "event", Category: "phone", Action: "call", Label: "ANSWERED",
		Value: &value, NonInteraction: true, Campaign: map[string]string{"cn": "brand", "cs": "google", "cm": "cpc"},
		QueueTimeMillis: 1200000, HitTime: testNow.Add(-20 * time.Minute), ReceivedAt: testNow,
	}}
	if got := s.UAHits(); !reflect.DeepEqual(got, want) {
		t.Errorf("UAHits:\nwant %+v\ngot  %+v", want, got)
	}
	if got := s.UADropped(); len(got) != 0 {
		t.Errorf("UADropped: want none, got %+v", got)
	}
}

func TestUAValidation(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []uaFinding // findings of /debug/collect; any ERROR drops the hit
	}{
		{"valid", validUAHit, nil},
		{"valid with uid instead of cid", withParam("cid", "") + "&uid=user-7", nil},
		{"valid pageview without ec/ea", "v=1&tid=" + testTID + "&cid=1.2&t=pageview", nil},
		{"qt exactly 4 h", withParam("qt", "14400000"), nil},
		{"ev zero", withParam("ev", "0"), nil},
		{"no v", withParam("v", ""), []uaFinding{{"ERROR", "v", "VALUE_REQUIRED"}}},
		{"v=2", withParam("v", "2"), []uaFinding{{"ERROR", "v", "VALUE_INVALID"}}},
		{"no tid", withParam("tid", ""), []uaFinding{{"ERROR", "tid", "VALUE_REQUIRED"}}},
		{"GA4 id as tid", withParam("tid", "G-ABC123"), []uaFinding{{"ERROR", "tid", "VALUE_INVALID"}}},
		{"tid without view", withParam("tid", "UA-1234"), []uaFinding{{"ERROR", "tid", "VALUE_INVALID"}}},
		{"no cid", withParam("cid", ""), []uaFinding{{"ERROR", "cid", "VALUE_REQUIRED"}}},
		{"no t", withParam("t", ""), []uaFinding{{"ERROR", "t", "VALUE_REQUIRED"}}},
		{"unknown t", withParam("t", "call"), []uaFinding{{"ERROR", "t", "VALUE_INVALID"}}},
		{"event without ec and ea", without("ec", "ea"), []uaFinding{{"ERROR", "ec", "VALUE_REQUIRED"}, {"ERROR", "ea", "VALUE_REQUIRED"}}},
		{"negative ev", withParam("ev", "-1"), []uaFinding{{"ERROR", "ev", "VALUE_INVALID"}}},
		{"fractional ev", withParam("ev", "1.5"), []uaFinding{{"ERROR", "ev", "VALUE_INVALID"}}},
		{"ni=yes", withParam("ni", "yes"), []uaFinding{{"ERROR", "ni", "VALUE_INVALID"}}},
		{"qt past 4 h", withParam("qt", "14400001"), []uaFinding{{"ERROR", "qt", "VALUE_OUT_OF_BOUNDS"}}},
		{"negative qt", withParam("qt", "-5"), []uaFinding{{"ERROR", "qt", "VALUE_INVALID"}}},
		{"ec 151 bytes", withParam("ec", strings.Repeat("c", 151)), []uaFinding{{"ERROR", "ec", "VALUE_TOO_LONG"}}},
		{"ea 501 bytes", withParam("ea", strings.Repeat("a", 501)), []uaFinding{{"ERROR", "ea", "VALUE_TOO_LONG"}}},
		{"el 501 bytes", withParam("el", strings.Repeat("l", 501)), []uaFinding{{"ERROR", "el", "VALUE_TOO_LONG"}}},
		{"cm 51 bytes", withParam("cm", strings.Repeat("m", 51)), []uaFinding{{"ERROR", "cm", "VALUE_TOO_LONG"}}},
		{"cd1 151 bytes", validUAHit + "&cd1=" + strings.Repeat("d", 151), []uaFinding{{"ERROR", "cd1", "VALUE_TOO_LONG"}}},
		{"payload over 8 KB", validUAHit + "&dr=" + strings.Repeat("r", 2048) + "&ck=" + strings.Repeat("%2F", 2100),
			[]uaFinding{{"ERROR", "", "VALUE_TOO_LONG"}, {"ERROR", "ck", "VALUE_TOO_LONG"}}},
		{"unparseable payload", validUAHit + "&el=%zz", []uaFinding{{"ERROR", "", "VALUE_INVALID"}}},
		{"unknown parameter only warns", validUAHit + "&utm_source=google", []uaFinding{{"WARN", "utm_source", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(emulator.Options{})
			result := uaDebug(t, s.Handler(), tt.body)
			got := []uaFinding{}
			wantValid := true
			for _, m := range result.ParserMessage {
				got = append(got, uaFinding{m.MessageType, m.Parameter, m.MessageCode})
				if m.Description == "" {
					t.Errorf("finding %+v has no description", m)
				}
			}
			want := append([]uaFinding{}, tt.want...)
			for _, f := range want {
				if f.Type == "ERROR" {
					wantValid = false
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("findings: want %v, got %v", want, got)
			}
			if result.Valid != wantValid {
				t.Errorf("valid: want %t, got %t", wantValid, result.Valid)
			}
			if len(s.UAHits())+len(s.UADropped()) != 0 {
				t.Errorf("debug must record nothing, got %+v and %+v", s.UAHits(), s.UADropped())
			}

			if rec := serve(s.Handler(), http.MethodPost, "/collect", tt.body); rec.Code != http.StatusOK {
				t.Fatalf("collect: want 200 even for an invalid hit, got %d", rec.Code)
			}
			kept, dropped := len(s.UAHits()), s.UADropped()
			if wantValid && (kept != 1 || len(dropped) != 0) {
				t.Errorf("collect: want the hit kept, got %d kept and %+v dropped", kept, dropped)
			}
			if !wantValid {
				if kept != 0 || len(dropped) != 1 {
					t.Fatalf("collect: want the hit dropped, got %d kept and %d dropped", kept, len(dropped))
				}
				if !reflect.DeepEqual(dropped[0].Messages, result.ParserMessage) || dropped[0].ReceivedAt != testNow {
					t.Errorf("drop: want the debug findings at %s, got %+v", testNow, dropped[0])
				}
			}
		})
	}
}

// uaDebugResult is the one hit result of a /debug/collect reply.
type uaDebugResult struct {
	Valid         bool                       `json:"valid"`
	Hit           string                     `json:"hit"`
	ParserMessage []emulator.UAParserMessage `json:"parserMessage"`
}

func uaDebug(t *testing.T, h http.Handler, body string) uaDebugResult {
	t.Helper()
	rec := serve(h, http.MethodPost, "/debug/collect", body)
	if rec.Code != http.StatusOK {
		t.Fatalf("debug: want 200, got %d: %s", rec.Code, rec.Body)
	}
	var reply struct {
		HitParsingResult []uaDebugResult            `json:"hitParsingResult"`
		ParserMessage    []emulator.UAParserMessage `json:"parserMessage"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("debug: decode reply %q: %v", rec.Body, err)
	}
	if len(reply.HitParsingResult) != 1 || reply.HitParsingResult[0].ParserMessage == nil {
		t.Fatalf("debug: want one hit result with a parserMessage array, got %s", rec.Body)
	}
	if got := reply.HitParsingResult[0].Hit; got != "/debug/collect?"+body {
		t.Errorf("debug: hit: want the payload echoed, got %q", got)
	}
	if len(reply.ParserMessage) != 1 || reply.ParserMessage[0].MessageType != "INFO" {
		t.Errorf("debug: want one INFO request-level message, got %+v", reply.ParserMessage)
	}
	return reply.HitParsingResult[0]
}

func TestUAControlAndReset(t *testing.T) {
	s := newServer(emulator.Options{})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	if status, body := call(t, srv, http.MethodGet, "/emulator/ua/hits", ""); status != http.StatusOK || string(body) != "{\"hits\":[],\"dropped\":[]}\n" {
		t.Errorf("empty recording: want 200 with empty arrays, got %d %s", status, body)
	}
	call(t, srv, http.MethodPost, "/collect", validUAHit)
	call(t, srv, http.MethodPost, "/collect", withParam("tid", "G-ABC123"))

	status, body := call(t, srv, http.MethodGet, "/emulator/ua/hits", "")
	var rec emulator.UARecording
	if err := json.Unmarshal(body, &rec); err != nil || status != http.StatusOK {
		t.Fatalf("GET /emulator/ua/hits: want 200 JSON, got %d %s (%v)", status, body, err)
	}
	if len(rec.Hits) != 1 || rec.Hits[0].ClientID != testClientID || len(rec.Dropped) != 1 || rec.Dropped[0].Params["tid"] != "G-ABC123" {
		t.Errorf("recording: want 1 hit and the G- drop, got %+v", rec)
	}

	if status, _ := call(t, srv, http.MethodPost, "/emulator/reset", ""); status != http.StatusNoContent {
		t.Fatalf("reset: want 204, got %d", status)
	}
	if n, d := len(s.UAHits()), len(s.UADropped()); n != 0 || d != 0 {
		t.Errorf("after reset: want nothing recorded, got %d hits and %d drops", n, d)
	}
}

func TestUAFaultsRecordNothing(t *testing.T) {
	s := newServer(emulator.Options{Faults: emulator.Faults{ErrorRate: 1}, Seed: 1})
	for _, path := range []string{"/collect", "/debug/collect"} {
		rec := serve(s.Handler(), http.MethodPost, path, validUAHit)
		if rec.Code != http.StatusInternalServerError && rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s with ErrorRate 1: want 500 or 503, got %d", path, rec.Code)
		}
	}
	if n := len(s.UAHits()) + len(s.UADropped()); n != 0 {
		t.Errorf("faulted requests must record nothing, got %d", n)
	}
}
