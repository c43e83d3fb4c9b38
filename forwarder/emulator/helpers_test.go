package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// testNow is the emulator's clock in these tests.
var testNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

const (
	testMID      = "G-ABC123XYZ"
	testSecret   = "s3cr3t"
	testClientID = "1234567890.1700000000"
	validQuery   = "?measurement_id=" + testMID + "&api_secret=" + testSecret
)

func newServer(opts emulator.Options) *emulator.Server {
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	return emulator.New(opts)
}

// serve sends one request straight to h and returns the recorded answer.
func serve(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// micros returns testNow shifted by d, in microseconds.
func micros(d time.Duration) int64 { return testNow.Add(d).UnixMicro() }

// validBody is a request Google would keep.
func validBody() string {
	return fmt.Sprintf(`{"client_id":%q,"timestamp_micros":%d,"events":[{"name":"phone_call","params":{"duration":312,"outcome":"ANSWERED","session_id":"1792999100","engagement_time_msec":1}}]}`,
		testClientID, micros(-time.Hour))
}

// finding is what a test compares of a validation message.
type finding struct{ Path, Code string }

func findings(msgs []emulator.ValidationMessage) []finding {
	out := []finding{}
	for _, m := range msgs {
		out = append(out, finding{m.FieldPath, m.ValidationCode})
	}
	return out
}

// debugFindings posts body to /debug/mp/collect with query and returns the
// findings.
func debugFindings(t *testing.T, h http.Handler, query, body string) []finding {
	t.Helper()
	rec := serve(h, http.MethodPost, "/debug/mp/collect"+query, body)
	if rec.Code != http.StatusOK {
		t.Fatalf("debug: want 200, got %d: %s", rec.Code, rec.Body)
	}
	var reply struct {
		ValidationMessages []emulator.ValidationMessage `json:"validationMessages"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("debug: decode reply %q: %v", rec.Body, err)
	}
	if reply.ValidationMessages == nil {
		t.Fatalf("debug: want a validationMessages array, got %s", rec.Body)
	}
	for _, m := range reply.ValidationMessages {
		if m.Description == "" {
			t.Errorf("debug: finding %+v has no description", m)
		}
	}
	return findings(reply.ValidationMessages)
}
