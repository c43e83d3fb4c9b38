package bolt_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/forwarder/webhook"
	"github.com/callforward/callforward/mapping"
)

// BenchmarkDiskPerCall measures what the store costs on disk per call, as
// bench/run's disk figures do: b.N calls of the benchmark webhook
// (examples/webhooks/answered-with-gclid.form, a random Call.Sid shaped
// like the platform's, as bench/load sends them, and a GA client id each;
// or, with sids=counter, Sids counting up per connection as bench/load
// sent them before, the worst case for bbolt's page fill: each of 32
// places of the B-trees only ever grows at its end, so the pages it splits
// off stay half full), planned by bench/rules10.yaml (seven deliveries) or
// bench/rules1.yaml (one), accepted by conns concurrent callers while
// workers claim and acknowledge the jobs, until every job is done. It
// reports the file's blocks on disk per call (disk-B/call; with
// deliver=false, while every job is still pending), the bytes of the
// pages per call of the jobs bucket (which holds the calls too) and of the
// done index (the done records), and with -v prints every bucket's pages
// and the share of them in use.
//
//	go test -run '^$' -bench DiskPerCall -benchtime 5000x ./forwarder/store/bolt
func BenchmarkDiskPerCall(b *testing.B) {
	form, err := os.ReadFile("../../../examples/webhooks/answered-with-gclid.form")
	if err != nil {
		b.Fatal(err)
	}
	params, err := url.ParseQuery(strings.TrimSpace(string(form)))
	if err != nil {
		b.Fatal(err)
	}
	for _, rules := range []string{"rules10", "rules1"} {
		r, err := mapping.Load("../../../bench/" + rules + ".yaml")
		if err != nil {
			b.Fatal(err)
		}
		for _, bc := range []struct {
			sids    string
			deliver bool
		}{{"random", true}, {"random", false}, {"counter", true}} {
			deliver := bc.deliver
			b.Run(fmt.Sprintf("rules=%s/sids=%s/deliver=%v", rules, bc.sids, deliver), func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "forwarder.db")
				s, err := bolt.Open(path, store.Options{DedupWindow: 24 * time.Hour, Lease: time.Minute})
				if err != nil {
					b.Fatal(err)
				}
				empty := diskBytes(b, path)
				ctx := context.Background()
				calls := make(chan url.Values)
				var wg sync.WaitGroup
				for range 32 {
					wg.Go(func() {
						for p := range calls {
							call, err := webhook.Decode(p)
							if err != nil {
								b.Error(err)
								return
							}
							if err := s.Accept(ctx, call, r.Evaluate(call)); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				stop := make(chan struct{})
				var workers sync.WaitGroup
				if deliver {
					workers.Go(func() { drainUntil(ctx, b, s, stop) })
				}
				for i := range b.N {
					p := maps(params)
					sid := "CA" + randomHex(16)
					if bc.sids == "counter" {
						sid = fmt.Sprintf("CAload-%s-%d-%d", "n", i%32, i)
					}
					p.Set("Call.Sid", sid)
					p.Set("Call.Recording.Uri", "https://recordings.example.net/"+sid+".mp3")
					p.Set("Call.StartDate", time.Now().UTC().Format(time.DateTime))
					p.Set("Google.Analytics.ClientId", fmt.Sprintf("%d.%d", 1000000000+mrand.IntN(1000000000), time.Now().Unix()))
					calls <- p
				}
				close(calls)
				wg.Wait()
				close(stop)
				workers.Wait()
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(diskBytes(b, path)-empty)/float64(b.N), "disk-B/call")
				reportBuckets(b, path)
				if keep := os.Getenv("KEEP_DISK_BENCH_DB"); keep != "" {
					// A copy to look into with the bbolt command.
					if data, err := os.ReadFile(path); err == nil {
						_ = os.WriteFile(filepath.Join(keep, strings.ReplaceAll(b.Name(), "/", "_")+".db"), data, 0o600)
					}
				}
			})
		}
	}
}

// maps returns a copy of v.
func maps(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// drainUntil claims and acknowledges jobs, each with the attempt a
// delivery worker records, until stop is closed and no job is left.
func drainUntil(ctx context.Context, b *testing.B, s *bolt.Store, stop chan struct{}) {
	for {
		jobs, err := s.Claim(ctx, 500)
		if err != nil {
			b.Error(err)
			return
		}
		if len(jobs) == 0 {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				continue
			}
		}
		// The attempt the delivery workers record (forwarder/deliver).
		at := time.Now()
		for i := range jobs {
			jobs[i].History = store.AppendAttempt(jobs[i].History, store.Attempt{At: at, Took: 38 * time.Millisecond, Result: store.AttemptDelivered})
		}
		for _, err := range s.AckMany(ctx, jobs) {
			if err != nil {
				b.Error(err)
				return
			}
		}
	}
}

// diskBytes returns the bytes of the blocks path holds on disk, as du
// counts them.
func diskBytes(b *testing.B, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}

// reportBuckets prints (with -v), per bucket, the bytes of its pages and the share in
// use, and reports the bytes of the jobs bucket and the done index per call.
func reportBuckets(b *testing.B, path string) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var lines []string
	err = db.View(func(tx *bbolt.Tx) error {
		lines = append(lines, fmt.Sprintf("file %d B, %d pages", tx.Size(), tx.Size()/int64(db.Info().PageSize)))
		return tx.ForEach(func(name []byte, bk *bbolt.Bucket) error {
			st := bk.Stats()
			alloc := st.BranchAlloc + st.LeafAlloc
			used := st.BranchInuse + st.LeafInuse
			if alloc == 0 {
				return nil
			}
			lines = append(lines, fmt.Sprintf("%-12s keys %7d  alloc %9d B (%6.0f B/call)  in use %3.0f%%", name, st.KeyN, alloc,
				float64(alloc)/float64(b.N), 100*float64(used)/float64(alloc)))
			switch string(name) {
			case "jobs", "done":
				b.ReportMetric(float64(alloc)/float64(b.N), string(name)+"-B/call")
			}
			return nil
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	st := db.Stats()
	lines = append(lines, fmt.Sprintf("free pages %d, pending %d, freelist %d B", st.FreePageN, st.PendingPageN, st.FreelistInuse))
	if testing.Verbose() {
		// b.Log keeps only a benchmark's first lines.
		fmt.Fprintf(os.Stderr, "%s N=%d\n  %s\n", b.Name(), b.N, strings.Join(lines, "\n  "))
	}
}
