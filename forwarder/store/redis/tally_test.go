package redis_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// forgetTallies makes the store under prefix one an earlier release
// wrote: no tallies, no marks, job records without "dest" and "tally".
func forgetTallies(t *testing.T, srv *redistest.Server, prefix string) {
	t.Helper()
	c := client(t, srv)
	tag := "{" + prefix + "}:"
	if err := c.Del(t.Context(), tag+"tallies", tag+"tally:hours", tag+"tally:mark").Err(); err != nil {
		t.Fatal(err)
	}
	jobs, err := c.HGetAll(t.Context(), tag+"jobs").Result()
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range jobs {
		var r map[string]any
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			t.Fatal(err)
		}
		if _, ok := r["tally"]; !ok {
			t.Fatalf("job %s was not counted: %s", id, v)
		}
		delete(r, "tally")
		delete(r, "dest")
		b, _ := json.Marshal(r)
		if err := c.HSet(t.Context(), tag+"jobs", id, b).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTalliesCountedOnOpen: a store written without tallies gets them
// counted by Open, once, however many instances open it at once.
func TestTalliesCountedOnOpen(t *testing.T) {
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	opts := store.Options{DedupWindow: 24 * time.Hour, Lease: time.Minute, Now: clock.Now}
	s := open(t, srv.URL(), opts, redis.Options{Prefix: prefix})
	sids := storetest.RandomWrites(t, s, clock, 400)
	kept, err := s.Tallies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(kept.Destinations) == 0 || len(kept.DeadGroups) == 0 || len(kept.Hours) == 0 {
		t.Fatalf("the writes left too little to count: %+v", kept)
	}
	forgetTallies(t, srv, prefix)
	if got, err := s.Tallies(t.Context()); err != nil || len(got.Destinations) != 0 {
		t.Fatalf("Tallies() after forgetting = %+v, %v; want none", got, err)
	}

	// Four instances start together.
	stores := make([]*redis.Store, 4)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i] = open(t, srv.URL(), opts, redis.Options{Prefix: prefix}) })
	}
	wg.Wait()
	got, err := stores[0].Tallies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(kept)
	if string(g) != string(w) {
		t.Fatalf("tallies counted on open:\n got %s\nwant %s", g, w)
	}
	storetest.CheckTallies(t, stores[1], clock.Now(), sids)
	// They are kept from then on.
	storetest.RandomWrites(t, stores[2], clock, 100)
	storetest.CheckTallies(t, stores[3], clock.Now(), sids)
}

// TestTalliesOfUncountedRecords: a record of an earlier release that a
// write changes before the count is counted by that write, once.
func TestTalliesOfUncountedRecords(t *testing.T) {
	srv := redistest.Start(t)
	prefix := uniquePrefix()
	clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC))
	opts := store.Options{DedupWindow: 24 * time.Hour, Lease: time.Minute, Now: clock.Now}
	s := open(t, srv.URL(), opts, redis.Options{Prefix: prefix})
	sids := storetest.RandomWrites(t, s, clock, 300)
	forgetTallies(t, srv, prefix)
	// Writes on the uncounted records, then the count of the rest.
	storetest.RandomWrites(t, s, clock, 150)
	s2 := open(t, srv.URL(), opts, redis.Options{Prefix: prefix})
	storetest.CheckTallies(t, s2, clock.Now(), sids)
}
