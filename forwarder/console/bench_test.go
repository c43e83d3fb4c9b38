package console

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/mapping"
)

// benchCalls is how many calls the page benchmarks store: the issue's
// target is a million (-console.calls=1000000; seeding takes minutes).
var benchCalls = flag.Int("console.calls", 100_000, "calls stored for the console's page benchmarks")

// benchDB reuses a store a previous run seeded (kept with
// -console.keep), to measure again without seeding for minutes.
var (
	benchDB   = flag.String("console.db", "", "use this embedded store file (seeded with -console.calls calls by an earlier run) instead of seeding one")
	benchKeep = flag.Bool("console.keep", false, "keep the seeded store and print its path")
)

var (
	benchOnce  sync.Once
	benchDir   string
	benchStore store.Store
	benchErr   error
)

// TestMain removes the benchmarks' store when the run ends.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchStore != nil {
		benchStore.Close()
	}
	if benchDir != "" && !*benchKeep {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// seeded opens (once per run) an embedded store holding benchCalls calls
// of the last day, each with two GA4 deliveries, one in a hundred of them
// dead.
func seeded(b *testing.B) store.Store {
	benchOnce.Do(func() {
		if *benchDB != "" {
			benchStore, benchErr = bolt.Open(*benchDB, store.Options{})
			return
		}
		var err error
		if benchDir, err = os.MkdirTemp("", "console-bench"); err != nil {
			benchErr = err
			return
		}
		st, err := bolt.Open(filepath.Join(benchDir, "callforward.db"), store.Options{})
		if err != nil {
			benchErr = err
			return
		}
		benchStore, benchErr = st, seed(st, *benchCalls)
		if *benchKeep {
			fmt.Fprintln(os.Stderr, "seeded store kept:", filepath.Join(benchDir, "callforward.db"))
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

func seed(st store.Store, n int) error {
	ctx := context.Background()
	start := time.Now().Add(-23 * time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	const workers = 32
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				sid := fmt.Sprintf("CABENCH%08d", i)
				d := 30 + i%200
				call := &forwarder.Call{Sid: sid, Event: forwarder.EventComplete, StartDate: start.Add(time.Duration(i) * time.Second % (23 * time.Hour)),
					Duration: &d, Disposition: forwarder.DispositionAnswered, From: "+61400000000", GAClientID: "111.222"}
				ds := []forwarder.Delivery{
					{ID: forwarder.DeliveryID(sid, "every-call", "website"), CallSid: sid, Rule: "every-call", Destination: "website", Type: forwarder.DestinationGA4, CallTime: call.StartDate},
					{ID: forwarder.DeliveryID(sid, "qualified-call", "website"), CallSid: sid, Rule: "qualified-call", Destination: "website", Type: forwarder.DestinationGA4, CallTime: call.StartDate},
				}
				if err := st.Accept(ctx, call, ds); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	// Bury some jobs so the dead letter page has work: claim and bury
	// n/100 of them.
	for left := n / 100; left > 0; {
		jobs, err := st.Claim(ctx, min(left, 500))
		if err != nil || len(jobs) == 0 {
			return err
		}
		for _, j := range jobs {
			if err := st.Bury(ctx, j, "event older than 72 hours", "event_too_old"); err != nil {
				return err
			}
		}
		left -= len(jobs)
	}
	return nil
}

// BenchmarkPages measures the server time of each page (rendering
// included, network excluded) over a store of -console.calls calls.
func BenchmarkPages(b *testing.B) {
	st := seeded(b)
	src, err := os.ReadFile("../cli/testdata/ga4-rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	rules, err := mapping.Parse("rules.yaml", src)
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{Store: st, Rules: func() *mapping.Rules { return rules }, Tokens: testTokens,
		Status: func() Status { return Status{Rules: RulesStatus{Source: src}} }}
	h, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	// fresh's clock jumps overviewTTL at each reading: its overview reads
	// the store every time.
	var ticks atomic.Int64
	cfg.Now = func() time.Time { return time.Now().Add(time.Duration(ticks.Add(1)) * overviewTTL) }
	fresh, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	value, ss := newSigner(testTokens).issue("ops", time.Now())
	csrf := newSigner(testTokens).csrf(ss)
	mid := fmt.Sprintf("CABENCH%08d", *benchCalls/2)
	pages := []struct {
		name, method, path string
		form               url.Values
		h                  http.Handler
	}{
		{"overview", http.MethodGet, "/", nil, fresh},
		{"overview-cached", http.MethodGet, "/", nil, h},
		{"calls", http.MethodGet, "/calls", nil, h},
		{"calls-by-sid", http.MethodGet, "/calls?sid=" + mid, nil, h},
		{"calls-dead", http.MethodGet, "/calls?state=dead", nil, h},
		{"call", http.MethodGet, "/calls/" + mid, nil, h},
		{"deadletters", http.MethodGet, "/deadletters", nil, h},
		{"rules", http.MethodGet, "/rules", nil, h},
		{"rules-try", http.MethodPost, "/rules", url.Values{"csrf": {csrf}, "webhook": {pastedWebhook}}, h},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				var body *strings.Reader
				if p.form != nil {
					body = strings.NewReader(p.form.Encode())
				} else {
					body = strings.NewReader("")
				}
				req := httptest.NewRequest(p.method, p.path, body)
				if p.form != nil {
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				}
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
				rec := httptest.NewRecorder()
				p.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s %s: %d", p.method, p.path, rec.Code)
				}
			}
		})
	}
}
