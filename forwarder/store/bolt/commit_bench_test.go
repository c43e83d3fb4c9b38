package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
)

// BenchmarkAcceptLatency measures Accept's latency, from conns concurrent
// callers, alone or while delivery workers claim and settle continuously,
// for the committer with intake first ("new") and for the one that queued
// every write in arrival order ("old", committer.fifo). The two run in
// alternating rounds of the same run, each on a fresh store, so that the
// machine's noise falls on both alike. It reports the percentiles of
// each, their ratios (new/old: below 1 is better) and the jobs the
// workers settled per second (delivery must not starve).
//
//	go test -run '^$' -bench AcceptLatency -benchtime 2000x ./forwarder/store/bolt
//
// b.N is the number of accepts per committer, over all rounds.
func BenchmarkAcceptLatency(b *testing.B) {
	for _, conns := range []int{1, 64} {
		for _, delivery := range []bool{false, true} {
			b.Run(fmt.Sprintf("conns=%d/delivery=%v", conns, delivery), func(b *testing.B) {
				const rounds = 4
				lat := map[bool][]time.Duration{}
				settled := map[bool]float64{}
				txns := map[bool]*recorded{true: {}, false: {}}
				took := map[bool]*time.Duration{true: new(time.Duration), false: new(time.Duration)}
				for round := range rounds {
					n := b.N / rounds
					if round == rounds-1 {
						n = b.N - n*(rounds-1)
					}
					for _, fifo := range []bool{round%2 == 0, round%2 != 0} {
						l, s := acceptRound(b, fifo, conns, delivery, n, txns[fifo], took[fifo])
						lat[fifo] = append(lat[fifo], l...)
						settled[fifo] += s / rounds
					}
				}
				for _, fifo := range []bool{true, false} {
					name := map[bool]string{true: "old", false: "new"}[fifo]
					slices.Sort(lat[fifo])
					b.ReportMetric(ms(pct(lat[fifo], 50)), name+"-p50-ms")
					b.ReportMetric(ms(pct(lat[fifo], 99)), name+"-p99-ms")
					if delivery {
						b.ReportMetric(settled[fifo], name+"-settled/s")
					}
					b.ReportMetric(ms(*took[fifo])/float64(len(txns[fifo].writes)), name+"-ms/commit")
				}
				b.ReportMetric(ms(pct(lat[false], 50))/ms(pct(lat[true], 50)), "p50-new/old")
				b.ReportMetric(ms(pct(lat[false], 99))/ms(pct(lat[true], 99)), "p99-new/old")
			})
		}
	}
}

// acceptRound runs n accepts from conns callers on a fresh store (with
// 1,000 calls' jobs already queued), with delivery workers running when
// delivery is set, and returns each accept's latency and the jobs the
// workers settled per second meanwhile.
func acceptRound(b *testing.B, fifo bool, conns int, delivery bool, n int, rec *recorded, took *time.Duration) ([]time.Duration, float64) {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "forwarder.db"), store.Options{DedupWindow: 24 * time.Hour, Lease: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	s.commits.fifo = fifo
	ctx := context.Background()
	var seq atomic.Int64
	accept := func() time.Duration {
		call, ds := benchCall(fmt.Sprintf("CA%032d", seq.Add(1)))
		start := time.Now()
		if err := s.Accept(ctx, call, ds); err != nil {
			b.Error(err)
		}
		return time.Since(start)
	}
	var wg sync.WaitGroup
	for range 1000 / 50 {
		for range 50 {
			wg.Go(func() { accept() })
		}
		wg.Wait()
	}

	stop := make(chan struct{})
	var workers sync.WaitGroup
	var settled atomic.Int64
	if delivery {
		for range benchWorkers {
			workers.Go(func() { benchWorker(ctx, b, s, stop, &settled) })
		}
	}
	began := time.Now()
	s.RecordCommits(timed{rec, took})
	lat := make([]time.Duration, n)
	var next atomic.Int64
	for range conns {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				lat[i] = accept()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	close(stop)
	workers.Wait()
	s.RecordCommits(discard{})
	return lat, float64(settled.Load()) / elapsed.Seconds()
}

// timed records the commits and adds up their time.
type timed struct {
	*recorded
	took *time.Duration
}

func (t timed) Commit(writes int, took time.Duration) {
	t.recorded.Commit(writes, took)
	t.mu.Lock()
	*t.took += took
	t.mu.Unlock()
}

// benchWorkers is the number of delivery workers of a round with delivery.
const benchWorkers = 4

// benchWorker claims up to 32 jobs at a time, "sends" them (2 ms), and
// settles them as the deliverer does: the delivered ones in one AckMany,
// the failed ones (one in eight, due again at once) retried one job each,
// concurrently.
func benchWorker(ctx context.Context, b *testing.B, s *Store, stop <-chan struct{}, settled *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		jobs, err := s.Claim(ctx, 32)
		if err != nil {
			b.Error(err)
			return
		}
		if len(jobs) == 0 {
			time.Sleep(time.Millisecond)
			continue
		}
		time.Sleep(2 * time.Millisecond)
		acks := jobs[:len(jobs)-len(jobs)/8]
		var wg sync.WaitGroup
		wg.Go(func() {
			for _, err := range s.AckMany(ctx, acks) {
				if err != nil {
					b.Error(err)
				}
			}
		})
		for _, j := range jobs[len(acks):] {
			wg.Go(func() {
				if err := s.Retry(ctx, j, time.Now(), "429 rate limited"); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		settled.Add(int64(len(jobs)))
	}
}

// benchCall returns a call with four deliveries (GA4 and Google Ads,
// each twice) shaped like those of the bench's rules.
func benchCall(sid string) (*forwarder.Call, []forwarder.Delivery) {
	duration := 142
	start := time.Now().Add(-3 * time.Minute)
	call := &forwarder.Call{
		Event:       forwarder.EventComplete,
		AccountSid:  "AC0001",
		PropertySid: "PR0001",
		Sid:         sid,
		StartDate:   start,
		Duration:    &duration,
		Disposition: forwarder.DispositionAnswered,
		GAClientID:  "1234567890.1700000000",
		GCLID:       "EAIaIQobChMI0123456789abcdefghijklmnopqrstuvwxyzABCDEF",
	}
	ga4 := forwarder.Delivery{
		ID: forwarder.DeliveryID(sid, "answered", "web"), CallSid: sid, Rule: "answered", Destination: "web",
		Type: forwarder.DestinationGA4, CallTime: start,
		GA4: &forwarder.GA4Event{MeasurementID: "G-TEST123", ClientID: call.GAClientID, Name: "phone_call_answered", Time: start,
			Params: map[string]any{"duration": 142, "disposition": "answered", "campaign": "spring-sale", "value": 25, "currency": "AUD"}},
	}
	value := 25.0
	ads := forwarder.Delivery{
		ID: forwarder.DeliveryID(sid, "answered", "ads"), CallSid: sid, Rule: "answered", Destination: "ads",
		Type: forwarder.DestinationGoogleAds, CallTime: start,
		Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick, CustomerID: "1234567890",
			ConversionAction: "987654321", Time: start, GCLID: call.GCLID, Value: &value, Currency: "AUD",
			TransactionID: sid + "/answered", AdUserData: "GRANTED"},
	}
	ga4b, adsb := ga4, ads
	ga4b.Rule, adsb.Rule = "long", "long"
	ga4b.ID, adsb.ID = forwarder.DeliveryID(sid, "long", "web"), forwarder.DeliveryID(sid, "long", "ads")
	return call, []forwarder.Delivery{ga4, ads, ga4b, adsb}
}

// pct returns the p-th percentile of sorted.
func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// discard hears of commits and forgets them.
type discard struct{}

func (discard) Commit(int, time.Duration) {}
