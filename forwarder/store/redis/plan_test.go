package redis_test

import (
	"encoding/json"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// toIDsIndex rewrites the store under prefix in the layout of the release
// before plans: every job of every plan a member of the ids index, no
// plans. It returns how many jobs it moved.
func toIDsIndex(t *testing.T, srv *redistest.Server, prefix string) int {
	t.Helper()
	c := client(t, srv)
	tag := "{" + prefix + "}:"
	plans, err := c.HGetAll(t.Context(), tag+"plans").Result()
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for sid, v := range plans {
		var ids []string
		if err := json.Unmarshal([]byte(v), &ids); err != nil {
			t.Fatalf("plan of %s = %q: %v", sid, v, err)
		}
		for _, id := range ids {
			if err := c.ZAdd(t.Context(), tag+"ids", goredis.Z{Member: id}).Err(); err != nil {
				t.Fatal(err)
			}
			moved++
		}
	}
	if err := c.Del(t.Context(), tag+"plans").Err(); err != nil {
		t.Fatal(err)
	}
	return moved
}

// checkListed checks that every job record of the store under prefix is
// listed, in the ids index or in the plan of its call, and that every ID
// listed has a record: Jobs and ListCalls find each job, and Sweep leaves
// no ID behind.
func checkListed(t *testing.T, srv *redistest.Server, prefix string) {
	t.Helper()
	c := client(t, srv)
	tag := "{" + prefix + "}:"
	jobs, err := c.HGetAll(t.Context(), tag+"jobs").Result()
	if err != nil {
		t.Fatal(err)
	}
	indexed, err := c.ZRange(t.Context(), tag+"ids", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	plans, err := c.HGetAll(t.Context(), tag+"plans").Result()
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, id := range indexed {
		listed[id] = true
	}
	planned := map[string]string{} // id → sid of the plan that lists it
	for sid, v := range plans {
		var ids []string
		if err := json.Unmarshal([]byte(v), &ids); err != nil {
			t.Fatalf("plan of %s = %q: %v", sid, v, err)
		}
		if len(ids) == 0 {
			t.Errorf("plan of %s is empty, want it gone", sid)
		}
		for _, id := range ids {
			planned[id] = sid
		}
	}
	for id := range listed {
		if _, ok := jobs[id]; !ok {
			t.Errorf("ids index lists %s, which has no record", id)
		}
	}
	for id, sid := range planned {
		if _, ok := jobs[id]; !ok {
			t.Errorf("plan of %s lists %s, which has no record", sid, id)
		}
	}
	for id, v := range jobs {
		var r struct {
			Delivery string `json:"delivery"`
		}
		var d struct {
			CallSid string `json:"call_sid"`
		}
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(r.Delivery), &d); err != nil {
			t.Fatal(err)
		}
		if !listed[id] && planned[id] != d.CallSid {
			t.Errorf("job %s of %s is in no index and no plan of its call", id, d.CallSid)
		}
	}
}

// view is what a store shows of calls: their jobs and the listing of
// every call.
type view struct {
	Jobs  map[string][]store.JobInfo
	Calls []store.CallSummary
}

func viewOf(t *testing.T, s *redis.Store, sids []string) view {
	t.Helper()
	v := view{Jobs: map[string][]store.JobInfo{}}
	for _, sid := range sids {
		jobs, err := s.Jobs(t.Context(), sid)
		if err != nil {
			t.Fatalf("Jobs(%s) = %v", sid, err)
		}
		v.Jobs[sid] = jobs
	}
	cursor := ""
	for {
		page, next, err := s.ListCalls(t.Context(), store.CallFilter{}, cursor, 0)
		if err != nil {
			t.Fatalf("ListCalls = %v", err)
		}
		v.Calls = append(v.Calls, page...)
		if next == "" {
			return v
		}
		cursor = next
	}
}

// drain claims and acknowledges every job due at the store's now.
func drain(t *testing.T, s *redis.Store) int {
	t.Helper()
	n := 0
	for {
		jobs, err := s.Claim(t.Context(), 500)
		if err != nil {
			t.Fatalf("Claim = %v", err)
		}
		if len(jobs) == 0 {
			return n
		}
		for i, err := range s.AckMany(t.Context(), jobs) {
			if err != nil {
				t.Fatalf("AckMany: %s: %v", jobs[i].Delivery.ID, err)
			}
		}
		n += len(jobs)
	}
}

// TestJobsListedBeforePlans: a store whose jobs are listed in the ids
// index, as the release before plans wrote it, shows the same jobs and
// calls; its pending work is delivered; a job written again after its
// done mark expired is listed once; Sweep takes swept jobs out of both
// listings; and the tallies stay exact throughout.
func TestJobsListedBeforePlans(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range []struct {
		name   string
		legacy bool // the jobs were written before plans
	}{
		{"plans", false},
		{"ids index", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := uniquePrefix()
			opts, clock := testOptions()
			s := open(t, srv.URL(), opts, redis.Options{Prefix: prefix})
			sids := storetest.RandomWrites(t, s, clock, 400)
			again, ds := testCall("CA-again", "a", "b")
			if err := s.Accept(t.Context(), again, ds); err != nil {
				t.Fatalf("Accept(%s) = %v", again.Sid, err)
			}
			clock.Advance(time.Hour) // every retry of the writes is due
			delivered := drain(t, s)
			if delivered < len(ds) {
				t.Fatalf("delivered %d jobs, want at least %d", delivered, len(ds))
			}
			sids = append(sids, again.Sid)
			before := viewOf(t, s, sids)
			if tc.legacy {
				if n := toIDsIndex(t, srv, prefix); n < 100 {
					t.Fatalf("moved %d jobs to the ids index, want the writes' (at least 100)", n)
				}
			}
			checkListed(t, srv, prefix)
			wantSameJSON(t, "the store's calls and jobs", viewOf(t, s, sids), before)
			storetest.CheckTallies(t, s, clock.Now(), sids)

			// The done marks of CA-again expire; it is accepted again
			// before a sweep: its jobs are rewritten, listed once.
			clock.Advance(opts.DedupWindow + time.Minute)
			if err := s.Accept(t.Context(), again, ds); err != nil {
				t.Fatalf("Accept(%s) again = %v", again.Sid, err)
			}
			jobs, err := s.Jobs(t.Context(), again.Sid)
			if err != nil || len(jobs) != len(ds) {
				t.Fatalf("Jobs(%s) = %d jobs, %v; want %d", again.Sid, len(jobs), err, len(ds))
			}
			for _, j := range jobs {
				if j.State != store.JobPending {
					t.Errorf("job %s is %s, want pending", j.Job.Delivery.ID, j.State)
				}
			}
			checkListed(t, srv, prefix)

			if n, err := s.Sweep(t.Context()); err != nil || n == 0 {
				t.Fatalf("Sweep = %d, %v; want some swept", n, err)
			}
			checkListed(t, srv, prefix)
			storetest.CheckTallies(t, s, clock.Now(), sids)
			if n := drain(t, s); n != len(ds) {
				t.Fatalf("delivered %d jobs after the sweep, want %d", n, len(ds))
			}
			storetest.CheckTallies(t, s, clock.Now(), sids)

			// Once every done mark has expired, a sweep leaves only the
			// dead letters listed.
			clock.Advance(opts.DedupWindow + time.Minute)
			if _, err := s.Sweep(t.Context()); err != nil {
				t.Fatalf("Sweep = %v", err)
			}
			checkListed(t, srv, prefix)
			st, err := s.Stats(t.Context())
			if err != nil || st.Pending != 0 || st.Done != 0 {
				t.Fatalf("Stats = %+v, %v; want nothing pending or done", st, err)
			}
			listed := 0
			for _, sid := range sids {
				jobs, err := s.Jobs(t.Context(), sid)
				if err != nil {
					t.Fatalf("Jobs(%s) = %v", sid, err)
				}
				for _, j := range jobs {
					if j.State != store.JobDead {
						t.Errorf("job %s is %s after the sweep, want dead", j.Job.Delivery.ID, j.State)
					}
				}
				listed += len(jobs)
			}
			if listed != st.Dead {
				t.Errorf("Jobs lists %d dead letters, Stats counts %d", listed, st.Dead)
			}
			storetest.CheckTallies(t, s, clock.Now(), sids)
		})
	}
}

// TestPlanOutlivesRecord: a job removed without being taken out of its
// plan (as an instance of the release before plans sweeps) is passed
// over; the call's other jobs are still listed, by Jobs and ListCalls.
func TestPlanOutlivesRecord(t *testing.T) {
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	opts, _ := testOptions()
	s := open(t, srv.URL(), opts, redis.Options{Prefix: prefix})
	call, ds := testCall("CA-gone", "kept", "removed")
	if err := s.Accept(t.Context(), call, ds); err != nil {
		t.Fatalf("Accept = %v", err)
	}
	if err := client(t, srv).HDel(t.Context(), "{"+prefix+"}:jobs", ds[1].ID).Err(); err != nil {
		t.Fatal(err)
	}
	v := viewOf(t, s, []string{call.Sid})
	if len(v.Calls) != 1 {
		t.Fatalf("ListCalls lists %d calls, want 1", len(v.Calls))
	}
	for what, jobs := range map[string][]store.JobInfo{"Jobs": v.Jobs[call.Sid], "ListCalls": v.Calls[0].Jobs} {
		if len(jobs) != 1 || jobs[0].Job.Delivery.ID != ds[0].ID {
			t.Errorf("%s lists %d jobs, want only %s", what, len(jobs), ds[0].ID)
		}
	}
}
