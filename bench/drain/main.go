// Command drain waits until the emulator has received a given number of
// GA4 events (-kind ga4) or Google Ads conversions (-kind ads) and prints
// how fast they came, in one line for the benchmark runner:
//
//	DRAIN_RESULT {"kind":"ga4","events":21000,"dropped":0,"first_s":0.08,"last_s":3.2,"span_s":3.1,"events_per_s":6774.2,...}
//
// Times are the emulator's own arrival stamps, not the times of the polls,
// so the figures do not depend on how often it polls: first_s and last_s
// are the first and last arrivals counted from -start (when the runner
// started the forwarder), span_s the time between them and events_per_s
// the events over span_s, the steady drain rate.
//
// For GA4, events counts what /mp/collect kept and dropped counts what
// Google would have dropped. For Google Ads, events counts the Data
// Manager events and Google Ads API click conversions recorded, duplicates
// the events Google would have deduplicated (sent twice), and requests the
// upload requests that carried them, so events/requests is the batch size.
//
// Each poll reads GET /emulator/summary, a few hundred bytes however large
// the recording, and polls are spaced by the expected time to completion
// at the rate seen so far, to keep them off the CPUs the forwarder uses.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/callforward/callforward/forwarder/emulator"
)

// Kinds of drain.
const (
	kindGA4 = "ga4"
	kindAds = "ads"
)

func main() {
	emu := flag.String("emulator", "http://127.0.0.1:9090", "emulator base URL")
	kind := flag.String("kind", kindGA4, "what to wait for: ga4 (events) or ads (conversions)")
	want := flag.Int("want", 0, "events or conversions (kept plus dropped) to wait for")
	startNanos := flag.Int64("start", 0, "unix nanoseconds the drain started at (default: now)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Parse()
	if *want < 1 {
		log.Fatal("drain: -want must be positive")
	}
	if *kind != kindGA4 && *kind != kindAds {
		log.Fatalf("drain: -kind %q: want %s or %s", *kind, kindGA4, kindAds)
	}
	start := time.Now()
	if *startNanos > 0 {
		start = time.Unix(0, *startNanos)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := wait(ctx, *emu, *kind, *want, start)
	out, jerr := json.Marshal(res)
	if jerr != nil {
		log.Fatalf("drain: %v", jerr)
	}
	fmt.Printf("DRAIN_RESULT %s\n", out)
	if err != nil {
		log.Fatalf("drain: %v", err)
	}
}

// result is what drain reports.
type result struct {
	Kind       string  `json:"kind"`
	Events     int     `json:"events"`
	Dropped    int     `json:"dropped"`
	Duplicates int     `json:"duplicates"`
	Requests   int     `json:"requests,omitempty"`
	FirstS     float64 `json:"first_s"`
	LastS      float64 `json:"last_s"`
	SpanS      float64 `json:"span_s"`
	EventsPerS float64 `json:"events_per_s"`
	// RequestsPerS is requests over span_s (Google Ads only).
	RequestsPerS float64 `json:"requests_per_s,omitempty"`
	Polls        int     `json:"polls"`
}

// wait polls until want events arrived and measures their arrival times.
func wait(ctx context.Context, emu, kind string, want int, start time.Time) (result, error) {
	res := result{Kind: kind}
	for {
		sum, err := fetch(ctx, emu)
		res.Polls++
		if err != nil {
			return res, err
		}
		res.measure(sum, start)
		got := res.Events + res.Dropped
		if got >= want {
			return res, nil
		}
		pause := 200 * time.Millisecond
		if got > 0 && res.LastS > res.FirstS {
			rate := float64(got) / (res.LastS - res.FirstS)
			pause = time.Duration(float64(want-got) / rate * 0.6 * float64(time.Second))
			pause = min(max(pause, 100*time.Millisecond), 2*time.Second)
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("%d of %d after the timeout", got, want)
		case <-time.After(pause):
		}
	}
}

// measure fills r from a summary, for r.Kind.
func (r *result) measure(sum emulator.Summary, start time.Time) {
	var parts []emulator.ArrivalSummary
	switch r.Kind {
	case kindAds:
		parts = []emulator.ArrivalSummary{sum.DataManager, sum.ClickConversions}
		r.Events = sum.DataManager.Count + sum.ClickConversions.Count
		r.Duplicates = sum.DataManagerDuplicates
		r.Requests = sum.Requests[emulator.EndpointIngestEvents] + sum.Requests[emulator.EndpointUploadClicks]
	default:
		parts = []emulator.ArrivalSummary{sum.GA4, sum.GA4Dropped}
		r.Events, r.Dropped = sum.GA4.Count, sum.GA4Dropped.Count
	}
	var first, last time.Time
	for _, p := range parts {
		if p.Count == 0 {
			continue
		}
		if first.IsZero() || p.First.Before(first) {
			first = p.First
		}
		if p.Last.After(last) {
			last = p.Last
		}
	}
	if first.IsZero() {
		return
	}
	r.FirstS = first.Sub(start).Seconds()
	r.LastS = last.Sub(start).Seconds()
	r.SpanS = last.Sub(first).Seconds()
	if r.SpanS > 0 {
		r.EventsPerS = float64(r.Events+r.Dropped) / r.SpanS
		r.RequestsPerS = float64(r.Requests) / r.SpanS
	}
}

func fetch(ctx context.Context, emu string) (emulator.Summary, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, emu+"/emulator/summary", nil)
	if err != nil {
		return emulator.Summary{}, fmt.Errorf("request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return emulator.Summary{}, errors.New("timed out waiting for the events")
		}
		return emulator.Summary{}, fmt.Errorf("get summary: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return emulator.Summary{}, fmt.Errorf("get summary: status %d", resp.StatusCode)
	}
	var sum emulator.Summary
	if err := json.NewDecoder(resp.Body).Decode(&sum); err != nil {
		return emulator.Summary{}, fmt.Errorf("decode summary: %w", err)
	}
	return sum, nil
}
