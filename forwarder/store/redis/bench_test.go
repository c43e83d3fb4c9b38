package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

// sevenRules are the rules of a call planned as bench/rules10.yaml plans
// the benchmarks' webhook: seven deliveries.
var sevenRules = []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7"}

// serverCPU returns the CPU seconds the server has used so far, user and
// system (INFO cpu).
func serverCPU(b *testing.B, srv *redistest.Server) float64 {
	b.Helper()
	info, err := client(b, srv).Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatalf("INFO cpu = %v", err)
	}
	var total float64
	for line := range strings.SplitSeq(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (k != "used_cpu_sys" && k != "used_cpu_user") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			b.Fatalf("INFO cpu: %s = %q: %v", k, v, err)
		}
		total += f
	}
	return total
}

// reportServerCPU reports the server's CPU time per op since from, in
// microseconds (srv-µs/op; ×10,000 / 10⁶ is the CPU seconds of 10k ops).
func reportServerCPU(b *testing.B, srv *redistest.Server, from float64) {
	b.Helper()
	b.ReportMetric((serverCPU(b, srv)-from)*1e6/float64(b.N), "srv-µs/op")
}

// BenchmarkAccept accepts one call at a time: every call pays a round
// trip and a script run.
func BenchmarkAccept(b *testing.B) {
	srv := redistest.Start(b)
	s := open(b, srv.URL(), store.Options{}, redis.Options{})
	ctx := context.Background()
	i := 0
	cpu := serverCPU(b, srv)
	for b.Loop() {
		call, ds := testCall(fmt.Sprintf("CA-%d", i), "every-call", "qualified")
		i++
		if err := s.Accept(ctx, call, ds); err != nil {
			b.Fatalf("Accept = %v", err)
		}
	}
	reportServerCPU(b, srv, cpu)
}

// BenchmarkAcceptParallel accepts from many goroutines at once, as
// concurrent webhook requests do, with each Accept's script sent on its
// own (single, the baseline) and with the scripts of Accepts that wait
// together sent in one pipeline (grouped, what the store does); grouped-7
// is grouped with seven deliveries per call instead of two.
func BenchmarkAcceptParallel(b *testing.B) {
	for _, c := range []struct {
		name    string
		grouped bool
		rules   []string
	}{
		{"single", false, []string{"every-call", "qualified"}},
		{"grouped", true, []string{"every-call", "qualified"}},
		{"grouped-7", true, sevenRules},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := redistest.Start(b)
			s := open(b, srv.URL(), store.Options{}, redis.Options{})
			if !c.grouped {
				redis.UngroupedIntake(s)
			}
			ctx := context.Background()
			var n atomic.Int64
			cpu := serverCPU(b, srv)
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					call, ds := testCall(fmt.Sprintf("CA-%d", n.Add(1)), c.rules...)
					if err := s.Accept(ctx, call, ds); err != nil {
						b.Errorf("Accept = %v", err)
						return
					}
				}
			})
			reportServerCPU(b, srv, cpu)
		})
	}
}

// BenchmarkClaimAck measures the queue's side of a drain: jobs claimed
// 500 at a time and acknowledged together, as the delivery workers do
// (one op is one job). The calls, seven jobs each, are stored before the
// timer starts.
func BenchmarkClaimAck(b *testing.B) {
	srv := redistest.Start(b)
	s := open(b, srv.URL(), store.Options{}, redis.Options{})
	ctx := context.Background()
	calls := (b.N + len(sevenRules) - 1) / len(sevenRules)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < calls; i += 16 {
				call, ds := testCall(fmt.Sprintf("CA-%d", i), sevenRules...)
				if err := s.Accept(ctx, call, ds); err != nil {
					b.Errorf("Accept = %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	cpu := serverCPU(b, srv)
	b.ResetTimer()
	for done := 0; done < b.N; {
		jobs, err := s.Claim(ctx, min(500, b.N-done))
		if err != nil || len(jobs) == 0 {
			b.Fatalf("Claim = %d jobs, %v", len(jobs), err)
		}
		for _, err := range s.AckMany(ctx, jobs) {
			if err != nil {
				b.Fatalf("AckMany = %v", err)
			}
		}
		done += len(jobs)
	}
	b.StopTimer()
	reportServerCPU(b, srv, cpu)
}

// BenchmarkClaimRetry measures settlements one job at a time: jobs
// claimed 500 at a time, each retried on its own (one op is one job).
func BenchmarkClaimRetry(b *testing.B) {
	srv := redistest.Start(b)
	s := open(b, srv.URL(), store.Options{}, redis.Options{})
	ctx := context.Background()
	calls := (b.N + len(sevenRules) - 1) / len(sevenRules)
	for i := range calls {
		call, ds := testCall(fmt.Sprintf("CA-%d", i), sevenRules...)
		if err := s.Accept(ctx, call, ds); err != nil {
			b.Fatalf("Accept = %v", err)
		}
	}
	cpu := serverCPU(b, srv)
	b.ResetTimer()
	for done := 0; done < b.N; {
		jobs, err := s.Claim(ctx, min(500, b.N-done))
		if err != nil || len(jobs) == 0 {
			b.Fatalf("Claim = %d jobs, %v", len(jobs), err)
		}
		for _, j := range jobs {
			if err := s.Retry(ctx, j, epoch.AddDate(1, 0, 0), "503"); err != nil {
				b.Fatalf("Retry = %v", err)
			}
		}
		done += len(jobs)
	}
	b.StopTimer()
	reportServerCPU(b, srv, cpu)
}
