package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// retrieve polls requestStatus:retrieve for id.
func retrieve(h http.Handler, token, id string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/v1/requestStatus:retrieve?requestId="+id+"&alt=json", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRequestStatus(t *testing.T) {
	tests := []struct {
		name       string
		processing emulator.ProcessingConfig
		wait       time.Duration
		want       string
	}{
		{
			name: "success at once by default",
			want: `{"requestStatusPerDestination":[{"requestStatus":"SUCCESS","eventsIngestionStatus":{"recordCount":"2"}}]}`,
		},
		{
			name:       "processing during the delay",
			processing: emulator.ProcessingConfig{DelayMS: 60_000},
			wait:       59 * time.Second,
			want:       `{"requestStatusPerDestination":[{"requestStatus":"PROCESSING"}]}`,
		},
		{
			name:       "partial success by click prefix, with indices",
			processing: emulator.ProcessingConfig{DelayMS: 60_000, RejectGCLIDPrefixes: map[string]string{"Cj0KCQ_x": "PROCESSING_ERROR_REASON_CLICK_NOT_FOUND"}},
			wait:       time.Minute,
			want:       `{"requestStatusPerDestination":[{"requestStatus":"PARTIAL_SUCCESS","errorInfo":{"errorCounts":[{"reason":"PROCESSING_ERROR_REASON_CLICK_NOT_FOUND","recordCount":"1","recordIndices":[1]}]},"eventsIngestionStatus":{"recordCount":"2"}}]}`,
		},
		{
			name:       "failed, without indices",
			processing: emulator.ProcessingConfig{OmitIndices: true, RejectGCLIDPrefixes: map[string]string{"Cj0KCQ_": "PROCESSING_ERROR_REASON_EXPIRED_CLICK"}},
			want:       `{"requestStatusPerDestination":[{"requestStatus":"FAILED","errorInfo":{"errorCounts":[{"reason":"PROCESSING_ERROR_REASON_EXPIRED_CLICK","recordCount":"2"}]},"eventsIngestionStatus":{"recordCount":"2"}}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: testNow}
			s := newGoogleServer(clk, emulator.AdsConfig{Processing: tt.processing})
			h := s.Handler()
			tok := accessToken(t, h, "rt")
			second := `,"adIdentifiers":{"gclid":"Cj0KCQ_xyz"}`
			rec := callAPI(h, ingestPath, tok, dmBody(dmEvent("T1", ""), dmEvent("T2", second)))
			if rec.Code != http.StatusOK {
				t.Fatalf("ingest: %d %s", rec.Code, rec.Body)
			}
			var ing struct{ RequestID string }
			if err := json.Unmarshal(rec.Body.Bytes(), &ing); err != nil {
				t.Fatal(err)
			}
			clk.advance(tt.wait)
			rec = retrieve(h, tok, ing.RequestID)
			if rec.Code != http.StatusOK {
				t.Fatalf("retrieve: %d %s", rec.Code, rec.Body)
			}
			if got := compact(t, rec.Body.Bytes()); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestRequestStatusRefusals(t *testing.T) {
	s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{})
	h := s.Handler()
	tok := accessToken(t, h, "rt")
	if rec := retrieve(h, tok, ""); rec.Code != http.StatusBadRequest {
		t.Errorf("no request id: %d, want 400", rec.Code)
	}
	if rec := retrieve(h, tok, "unknown"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown request id: %d, want 404", rec.Code)
	}
	if rec := retrieve(h, "", "x"); rec.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", rec.Code)
	}
}

// compact is b without insignificant white space.
func compact(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return out.String()
}

// TestIngestRequestIDsAreUnique: requests that arrive together each get a
// request id of their own, so each poll reads its own request's report.
func TestIngestRequestIDsAreUnique(t *testing.T) {
	s := newGoogleServer(&clock{t: testNow}, emulator.AdsConfig{})
	h := s.Handler()
	tok := accessToken(t, h, "rt")
	const n = 64
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rec := callAPI(h, ingestPath, tok, dmBody(dmEvent(fmt.Sprintf("T%d", i), "")))
			var ing struct{ RequestID string }
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &ing) != nil {
				t.Errorf("ingest %d: %d %s", i, rec.Code, rec.Body)
			}
			ids <- ing.RequestID
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("request id %s answered twice", id)
		}
		seen[id] = true
	}
}
