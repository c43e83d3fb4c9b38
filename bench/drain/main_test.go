package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// growing serves a summary that grows by two per poll (one kept event or
// conversion every 100 ms from start+1s, the newest GA4 one dropped).
func growing(t *testing.T, start time.Time) *httptest.Server {
	var polls atomic.Int64
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/emulator/summary" {
			http.NotFound(w, r)
			return
		}
		n := int(polls.Add(1)) * 2
		at := func(i int) time.Time { return start.Add(time.Second + time.Duration(i)*100*time.Millisecond) }
		sum := emulator.Summary{
			GA4:                   emulator.ArrivalSummary{Count: n - 1, First: at(0), Last: at(n - 2)},
			GA4Dropped:            emulator.ArrivalSummary{Count: 1, First: at(n - 1), Last: at(n - 1)},
			DataManager:           emulator.ArrivalSummary{Count: n, First: at(0), Last: at(n - 1)},
			DataManagerDuplicates: 1,
			Requests:              map[string]int{emulator.EndpointIngestEvents: n / 2, emulator.EndpointToken: 1},
		}
		if err := json.NewEncoder(w).Encode(sum); err != nil {
			t.Errorf("encode: %v", err)
		}
	}))
}

// wait stops at the count wanted and measures from the emulator's stamps,
// not from its own clock.
func TestWaitMeasuresArrivals(t *testing.T) {
	start := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		kind                            string
		events, dropped, dups, requests int
		requestsPerS                    float64
	}{
		{kindGA4, 5, 1, 0, 0, 0},
		{kindAds, 6, 0, 1, 3, 6},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			srv := growing(t, start)
			defer srv.Close()
			res, err := wait(context.Background(), srv.URL, tc.kind, 6, start)
			if err != nil {
				t.Fatalf("wait = %v", err)
			}
			if res.Events != tc.events || res.Dropped != tc.dropped || res.Duplicates != tc.dups || res.Requests != tc.requests || res.Polls != 3 {
				t.Errorf("events, dropped, duplicates, requests, polls = %d, %d, %d, %d, %d; want %d, %d, %d, %d, 3",
					res.Events, res.Dropped, res.Duplicates, res.Requests, res.Polls, tc.events, tc.dropped, tc.dups, tc.requests)
			}
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"first_s", res.FirstS, 1},
				{"last_s", res.LastS, 1.5},
				{"span_s", res.SpanS, 0.5},
				{"events_per_s", res.EventsPerS, 12},
				{"requests_per_s", res.RequestsPerS, tc.requestsPerS},
			} {
				if math.Abs(c.got-c.want) > 1e-9 {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestWaitGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if res, err := wait(ctx, srv.URL, kindGA4, 1, time.Now()); err == nil {
		t.Errorf("wait = %+v, nil error; want an error once the context ends", res)
	}
}

func TestWaitReportsBadStatus(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := wait(context.Background(), srv.URL, kindAds, 1, time.Now()); err == nil {
		t.Error("wait against a 404 = nil error, want one")
	}
}
