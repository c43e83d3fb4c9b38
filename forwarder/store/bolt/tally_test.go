package bolt_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"

	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// forgetTallies makes the store file at path one an earlier release
// wrote: no tallies nor counts, no mark that they are kept.
func forgetTallies(t *testing.T, path string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range []string{"tallies", "tally-hours", "counts"} {
			if err := tx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Delete([]byte("tallies"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTalliesCountedOnOpen: a store written without tallies gets them
// counted when opened, equal to those kept by the writes.
func TestTalliesCountedOnOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "forwarder.db")
	opts, clock := testOptions()
	s, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	sids := storetest.RandomWrites(t, s, clock, 400)
	kept, err := s.Tallies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(kept.Destinations) == 0 || len(kept.DeadGroups) == 0 || len(kept.Hours) == 0 {
		t.Fatalf("the writes left too little to count: %+v", kept)
	}
	stats, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	forgetTallies(t, path)

	s = open(t, path, opts)
	got, err := s.Tallies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantJSON(t, "tallies counted on open", got, kept)
	gotStats, err := s.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantJSON(t, "stats counted on open", gotStats, stats)
	storetest.CheckTallies(t, s, clock.Now(), sids)
	// They are kept from then on.
	storetest.RandomWrites(t, s, clock, 100)
	storetest.CheckTallies(t, s, clock.Now(), sids)
}

// TestTalliesOfLegacyStore: the store file of an older release is
// counted on open.
func TestTalliesOfLegacyStore(t *testing.T) {
	s, clock := openLegacy(t)
	got, err := s.Tallies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := store.Tallies{
		Hours:        []store.HourTally{{Hour: store.TallyHour(clock.Now()), Calls: 2}},
		Destinations: []store.DestinationTally{{Destination: "web", Pending: 1}},
		DeadGroups:   []store.DeadGroup{},
	}
	wantJSON(t, "tallies of the legacy store", got, want)
	storetest.CheckTallies(t, s, clock.Now(), []string{"CA-legacy-complete", "CA-legacy-initiate"})
	clock.Advance(time.Minute)
	call, ds := testCall("CA-legacy-complete", "again")
	call.Event = forwarder.EventInitiate
	if err := s.Accept(t.Context(), call, ds); err != nil {
		t.Fatal(err)
	}
	storetest.CheckTallies(t, s, clock.Now(), []string{"CA-legacy-complete", "CA-legacy-initiate"})
}

func wantJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}
