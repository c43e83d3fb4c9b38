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
)

// TestWaitMeasuresArrivals serves a recording that grows by two events per
// poll and checks that wait stops at the count wanted and measures from
// the emulator's stamps, not from its own clock.
func TestWaitMeasuresArrivals(t *testing.T) {
	start := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	var polls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/emulator/ga4/events" {
			http.NotFound(w, r)
			return
		}
		n := int(polls.Add(1)) * 2
		var rec struct {
			Events  []arrival `json:"events"`
			Dropped []arrival `json:"dropped"`
		}
		for i := range n - 1 {
			// One event every 100 ms from start+1s.
			rec.Events = append(rec.Events, arrival{start.Add(time.Second + time.Duration(i)*100*time.Millisecond)})
		}
		rec.Dropped = []arrival{{start.Add(time.Second + time.Duration(n-1)*100*time.Millisecond)}}
		if err := json.NewEncoder(w).Encode(rec); err != nil {
			t.Errorf("encode: %v", err)
		}
	}))
	defer srv.Close()

	res, err := wait(context.Background(), srv.URL, 6, start)
	if err != nil {
		t.Fatalf("wait = %v", err)
	}
	if res.Events != 5 || res.Dropped != 1 || res.Polls != 3 {
		t.Errorf("events, dropped, polls = %d, %d, %d; want 5, 1, 3", res.Events, res.Dropped, res.Polls)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"first_s", res.FirstS, 1},
		{"last_s", res.LastS, 1.5},
		{"span_s", res.SpanS, 0.5},
		{"events_per_s", res.EventsPerS, 12},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestWaitGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"events":[],"dropped":[]}`))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if res, err := wait(ctx, srv.URL, 1, time.Now()); err == nil {
		t.Errorf("wait = %+v, nil error; want an error once the context ends", res)
	}
}

func TestWaitReportsBadStatus(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := wait(context.Background(), srv.URL, 1, time.Now()); err == nil {
		t.Error("wait against a 404 = nil error, want one")
	}
}
