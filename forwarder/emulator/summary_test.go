package emulator_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// The summary counts what each recording kept and when its first and last
// entries arrived, and is the same through GET /emulator/summary.
func TestSummary(t *testing.T) {
	clk := &clock{t: testNow}
	s := newGoogleServer(clk, emulator.AdsConfig{})
	h := s.Handler()

	if got := s.Summary(); got.GA4.Count != 0 || !got.GA4.First.IsZero() || got.DataManager.Count != 0 {
		t.Fatalf("empty server: summary %+v, want zero counts and times", got)
	}

	tok := accessToken(t, h, "rt")
	serve(h, http.MethodPost, "/mp/collect"+validQuery, validBody())
	if rec := callAPI(h, ingestPath, tok, dmBody(dmEvent("T1", ""), dmEvent("T2", ""))); rec.Code != http.StatusOK {
		t.Fatalf("ingest: %d %s", rec.Code, rec.Body)
	}
	clk.advance(3 * time.Second)
	serve(h, http.MethodPost, "/mp/collect"+validQuery, validBody())
	serve(h, http.MethodPost, "/mp/collect"+validQuery, event("page_view", "{}")) // reserved name: dropped
	if rec := callAPI(h, ingestPath, tok, dmBody(dmEvent("T3", ""), dmEvent("T1", ""))); rec.Code != http.StatusOK {
		t.Fatalf("ingest: %d %s", rec.Code, rec.Body)
	}

	later := testNow.Add(3 * time.Second)
	want := emulator.Summary{
		GA4:                   emulator.ArrivalSummary{Count: 2, First: testNow, Last: later},
		GA4Dropped:            emulator.ArrivalSummary{Count: 1, First: later, Last: later},
		DataManager:           emulator.ArrivalSummary{Count: 3, First: testNow, Last: later},
		DataManagerDuplicates: 1,
		Requests:              map[string]int{emulator.EndpointToken: 1, emulator.EndpointIngestEvents: 2},
	}
	wantJSON := mustJSON(t, want)
	if got := mustJSON(t, s.Summary()); got != wantJSON {
		t.Errorf("Summary() =\n%s\nwant\n%s", got, wantJSON)
	}

	rec := serve(h, http.MethodGet, "/emulator/summary", "")
	var got emulator.Summary
	if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != http.StatusOK || err != nil {
		t.Fatalf("GET /emulator/summary: %d %s (%v)", rec.Code, rec.Body, err)
	}
	if g := mustJSON(t, got); g != wantJSON {
		t.Errorf("GET /emulator/summary =\n%s\nwant\n%s", g, wantJSON)
	}
}
