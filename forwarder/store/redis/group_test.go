package redis_test

import (
	"context"
	"errors"
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

// TestGroupedIntake accepts from many goroutines at once, every Sid twice:
// the scripts travel together (the server reads far fewer requests than
// it runs scripts), yet each Accept gets its own answer, exactly one of
// each pair is accepted, and every accepted call is stored with its jobs.
func TestGroupedIntake(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL(), store.Options{}, redis.Options{})
	ctx := context.Background()
	const workers, perWorker = 32, 40
	var accepted, duplicates atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				// Workers w and w^1 send the same Sids.
				sid := fmt.Sprintf("CA-%d-%d", w/2, i)
				call, ds := testCall(sid, "every-call", "qualified")
				switch err := s.Accept(ctx, call, ds); {
				case err == nil:
					accepted.Add(1)
				case errors.Is(err, store.ErrDuplicate):
					duplicates.Add(1)
				default:
					t.Errorf("Accept(%s) = %v", sid, err)
				}
			}
		})
	}
	wg.Wait()
	const calls = workers / 2 * perWorker
	if accepted.Load() != calls || duplicates.Load() != calls {
		t.Fatalf("accepted %d, duplicates %d; want %d each", accepted.Load(), duplicates.Load(), calls)
	}
	for i := range perWorker {
		sid := fmt.Sprintf("CA-%d-%d", workers/2-1, i)
		jobs, err := s.Jobs(ctx, sid)
		if err != nil || len(jobs) != 2 {
			t.Fatalf("Jobs(%s) = %d jobs, %v; want 2", sid, len(jobs), err)
		}
	}
	reads := infoField(t, srv, "stats", "total_reads_processed")
	if scripts := int64(workers * perWorker); reads > scripts/2 {
		t.Errorf("the server read %d requests for %d Accepts; want the scripts of concurrent Accepts grouped", reads, scripts)
	}
}

// TestGroupedIntakeAfterScriptFlush: a server that lost its scripts
// (SCRIPT FLUSH, a restart, a failover) answers a grouped EVALSHA with
// NOSCRIPT; each such Accept is run again, loading the script, and
// succeeds.
func TestGroupedIntakeAfterScriptFlush(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL(), store.Options{}, redis.Options{})
	c := client(t, srv)
	ctx := context.Background()
	for round := range 3 {
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				sid := fmt.Sprintf("CA-%d-%d", round, w)
				call, ds := testCall(sid, "every-call")
				if err := s.Accept(ctx, call, ds); err != nil {
					t.Errorf("Accept(%s) after SCRIPT FLUSH = %v", sid, err)
				}
			})
		}
		wg.Wait()
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Calls != 48 || st.Pending != 48 {
		t.Fatalf("Stats = %+v, %v; want 48 calls, 48 pending jobs", st, err)
	}
}

// TestGroupedIntakeCanceled: an Accept whose context is already done
// fails without writing.
func TestGroupedIntakeCanceled(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL(), store.Options{}, redis.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	call, ds := testCall("CA-canceled", "every-call")
	if err := s.Accept(ctx, call, ds); !errors.Is(err, context.Canceled) {
		t.Fatalf("Accept with a canceled context = %v, want context.Canceled", err)
	}
	if _, err := s.Call(context.Background(), "CA-canceled"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Call after a canceled Accept = %v, want ErrNotFound", err)
	}
}

// infoField reads one numeric field of a section of srv's INFO.
func infoField(t *testing.T, srv *redistest.Server, section, field string) int64 {
	t.Helper()
	info, err := client(t, srv).Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("INFO %s: %q: %v", section, line, err)
			}
			return n
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return 0
}
