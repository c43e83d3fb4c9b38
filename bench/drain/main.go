// Command drain waits until the emulator has received a given number of GA4
// events and prints how fast they came, in one line for the benchmark
// runner:
//
//	DRAIN_RESULT {"events":21000,"dropped":0,"first_s":0.08,"last_s":3.2,"span_s":3.1,"events_per_s":6774.2}
//
// Times are the emulator's own received_at stamps, not the times of the
// polls, so the figures do not depend on how often it polls: first_s and
// last_s are the first and last arrivals counted from -start (when the
// runner started the forwarder), span_s the time between them and
// events_per_s the events over span_s, the steady drain rate.
//
// The emulator has no count endpoint: each poll fetches the whole
// recording (GET /emulator/ga4/events), a few hundred bytes per event. To
// keep that off the CPUs the forwarder uses, polls are spaced by the
// expected time to completion at the rate seen so far.
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
)

func main() {
	emu := flag.String("emulator", "http://127.0.0.1:9090", "emulator base URL")
	want := flag.Int("want", 0, "events (kept plus dropped) to wait for")
	startNanos := flag.Int64("start", 0, "unix nanoseconds the drain started at (default: now)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Parse()
	if *want < 1 {
		log.Fatal("drain: -want must be positive")
	}
	start := time.Now()
	if *startNanos > 0 {
		start = time.Unix(0, *startNanos)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := wait(ctx, *emu, *want, start)
	out, jerr := json.Marshal(res)
	if jerr != nil {
		log.Fatalf("drain: %v", jerr)
	}
	fmt.Printf("DRAIN_RESULT %s\n", out)
	if err != nil {
		log.Fatalf("drain: %v", err)
	}
}

// recording is the part of the emulator's answer drain reads.
type recording struct {
	Events  []arrival `json:"events"`
	Dropped []arrival `json:"dropped"`
}

type arrival struct {
	ReceivedAt time.Time `json:"received_at"`
}

// result is what drain reports.
type result struct {
	Events     int     `json:"events"`
	Dropped    int     `json:"dropped"`
	FirstS     float64 `json:"first_s"`
	LastS      float64 `json:"last_s"`
	SpanS      float64 `json:"span_s"`
	EventsPerS float64 `json:"events_per_s"`
	Polls      int     `json:"polls"`
}

// wait polls until want events arrived and measures their arrival times.
func wait(ctx context.Context, emu string, want int, start time.Time) (result, error) {
	var res result
	for {
		rec, err := fetch(ctx, emu)
		res.Polls++
		if err != nil {
			return res, err
		}
		res.measure(rec, start)
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
			return res, fmt.Errorf("%d of %d events after the timeout", got, want)
		case <-time.After(pause):
		}
	}
}

// measure fills r from a recording; arrivals are in order in each list.
func (r *result) measure(rec recording, start time.Time) {
	r.Events, r.Dropped = len(rec.Events), len(rec.Dropped)
	var first, last time.Time
	for _, list := range [][]arrival{rec.Events, rec.Dropped} {
		if len(list) == 0 {
			continue
		}
		if f := list[0].ReceivedAt; first.IsZero() || f.Before(first) {
			first = f
		}
		if l := list[len(list)-1].ReceivedAt; l.After(last) {
			last = l
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
	}
}

func fetch(ctx context.Context, emu string) (recording, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, emu+"/emulator/ga4/events", nil)
	if err != nil {
		return recording{}, fmt.Errorf("request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return recording{}, errors.New("timed out waiting for the events")
		}
		return recording{}, fmt.Errorf("get events: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return recording{}, fmt.Errorf("get events: status %d", resp.StatusCode)
	}
	var rec recording
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil {
		return recording{}, fmt.Errorf("decode events: %w", err)
	}
	return rec, nil
}
