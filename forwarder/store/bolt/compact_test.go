package bolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/storetest"
)

// doneJSON returns the done record of d as the store writes it in full.
func doneJSON(t testing.TB, d forwarder.Delivery) []byte {
	t.Helper()
	dd, err := store.EncodeDoneDelivery(d)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 18, 39, 19, 511343092, time.UTC)
	v, err := encodeRawRecord(rawRecord{
		Job: rawJob{
			Delivery: dd, Attempts: 1, DueAt: at.Add(time.Minute),
			History: []store.Attempt{{At: at, Took: 38 * time.Millisecond, Result: store.AttemptDelivered}},
		},
		State: store.JobDone, Settled: at.Add(time.Millisecond),
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// delivery returns a done delivery of sid under rule to dest.
func delivery(sid, rule, dest string) forwarder.Delivery {
	return forwarder.Delivery{
		ID: forwarder.DeliveryID(sid, rule, dest), CallSid: sid, Rule: rule, Destination: dest,
		Type: forwarder.DestinationGA4, CallTime: time.Date(2026, 12, 7, 18, 39, 19, 0, time.UTC),
	}
}

// TestCompactRecord: a record is stored compact exactly when its key
// splits unambiguously into the call, rule and destination its delivery
// names, under the ID it names; every record, compact or not, restores to
// the bytes it was made from.
func TestCompactRecord(t *testing.T) {
	usual := delivery("CA00036104be3e2cd0aa97fe0942ed81ca", "every-call", "rollup")
	escaped := delivery("CA<&>\u2028", "r\"\\", "d\u00e9")
	otherID := usual
	otherID.ID = forwarder.DeliveryID(usual.CallSid, usual.Rule, "other")
	otherSid := usual
	otherSid.CallSid = "CA-other"
	slashSid := delivery("CA/1", "r", "web")
	slashRule := delivery("CA1", "r/x", "web")
	slashDest := delivery("CA1", "r", "web/x")
	empty := delivery("", "", "")
	ads := usual
	ads.Type, ads.Ads, ads.Trace = forwarder.DestinationGoogleAds, &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager}, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	tests := []struct {
		name    string
		key     string
		v       string
		compact bool
	}{
		{"usual", usual.ID, string(doneJSON(t, usual)), true},
		{"with ads and trace", ads.ID, string(doneJSON(t, ads)), true},
		{"escaped characters", escaped.ID, string(doneJSON(t, escaped)), true},
		{"empty call, rule and destination", "//", string(doneJSON(t, empty)), true},
		{"full payload", usual.ID, strings.Replace(string(doneJSON(t, usual)), `"call_time":"2026-12-07T18:39:19Z"`, `"call_time":"2026-12-07T18:39:19Z","ga4":{"measurement_id":"G-1","client_id":"1.2","name":"x","time":"2026-12-07T18:39:19Z"}`, 1), true},
		{"key of another record", usual.ID + "x", string(doneJSON(t, usual)), false},
		{"ID not the key", usual.ID, string(doneJSON(t, otherID)), false},
		{"call not the key's", usual.ID, string(doneJSON(t, otherSid)), false},
		{"'/' in the call", slashSid.ID, string(doneJSON(t, slashSid)), false},
		{"'/' in the rule", slashRule.ID, string(doneJSON(t, slashRule)), false},
		{"'/' in the destination", slashDest.ID, string(doneJSON(t, slashDest)), false},
		{"key not UTF-8", "CA\xff/r/web", string(doneJSON(t, delivery("CA\xff", "r", "web"))), false},
		{"members in another order", "CA1/r/web", `{"job":{"delivery":{"call_sid":"CA1","id":"CA1/r/web","rule":"r","destination":"web","type":"ga4"},"attempts":1,"due_at":"0001-01-01T00:00:00Z"},"state":"done"}`, false},
		{"space after a colon", "CA1/r/web", `{"job":{"delivery":{"id": "CA1/r/web","call_sid":"CA1","rule":"r","destination":"web","type":"ga4"},"attempts":1,"due_at":"0001-01-01T00:00:00Z"},"state":"done"}`, false},
		{"nothing after the destination", "CA1/r/web", `{"job":{"delivery":{"id":"CA1/r/web","call_sid":"CA1","rule":"r","destination":"web"},"attempts":1,"due_at":"0001-01-01T00:00:00Z"},"state":"done"}`, false},
		{"null delivery", "CA1/r/web", `{"job":{"delivery":null,"attempts":1,"due_at":"0001-01-01T00:00:00Z"},"state":"done"}`, false},
		{"not a record", "CA1/r/web", `{}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, v := []byte(tt.key), []byte(tt.v)
			got := compactRecord(key, v)
			if gotCompact := bytes.HasPrefix(got, compactHead); gotCompact != tt.compact {
				t.Fatalf("compactRecord(%q, %s) = %s, compact %v, want %v", key, v, got, gotCompact, tt.compact)
			}
			if !tt.compact && !bytes.Equal(got, v) {
				t.Fatalf("compactRecord(%q, %s) = %s, want it unchanged", key, v, got)
			}
			if tt.compact && (len(got) >= len(v) || bytes.Contains(got, []byte(`"call_sid"`))) {
				t.Fatalf("compactRecord(%q, %s) = %s, want the key's members gone", key, v, got)
			}
			back, err := restoreRecord(key, got)
			if err != nil || !bytes.Equal(back, v) {
				t.Fatalf("restoreRecord(%q, %s) = %s, %v; want %s", key, got, back, err, v)
			}
			// The stored value reads back as the record, for every reader.
			stored := encodeJob(key, store.JobDone, v)
			if back, err := decodeJob(nil, key, stored); err != nil || !bytes.Equal(back, v) {
				t.Fatalf("decodeJob(encodeJob(%q, %s)) = %s, %v", key, v, back, err)
			}
			if tt.v != "{}" {
				// Compaction is done records' only.
				if got := encodeJob(key, store.JobPending, v); !bytes.Equal(got, encodeValue(v)) {
					t.Fatalf("pending record of %s stored compact", v)
				}
			}
		})
	}
}

// TestRestoreRecordUnreadable: a compact record under a key that does not
// split into call, rule and destination is an error, not a guess.
func TestRestoreRecordUnreadable(t *testing.T) {
	v := compactRecord([]byte("CA1/r/web"), doneJSON(t, delivery("CA1", "r", "web")))
	for _, key := range []string{"CA1/r", "CA/1/r/web", "", "CA\xff/r/web"} {
		got, err := restoreRecord([]byte(key), v)
		if !errors.Is(err, errValue) {
			t.Errorf("restoreRecord(%q, %s) = %s, %v; want an error wrapping %v", key, v, got, err, errValue)
		}
	}
	// Anything not compact is left as it is, however it reads.
	for _, v := range []string{"", "{", `{"job":{"delivery":{"id":0}}`[:20], `{"job":{"delivery":{"id":1,"x":1}}}`, sampleDone, samplePending} {
		got, err := restoreRecord([]byte("CA1"), []byte(v))
		if err != nil || string(got) != v {
			t.Errorf("restoreRecord(%q) = %q, %v; want it unchanged", v, got, err)
		}
	}
}

// ackedStore returns a store holding calls whose jobs were acknowledged
// (deliveries of every kind, under keys that split and keys that do not),
// the jobs as acknowledged, and what Jobs must read of each: the job as
// acknowledged, its delivery without payload.
func ackedStore(t *testing.T) (*Store, *storetest.Clock, []store.Job, map[string]store.JobInfo) {
	t.Helper()
	clock := storetest.NewClock(time.Date(2026, 3, 2, 9, 30, 0, 7, time.FixedZone("", 3600)))
	s, err := Open(filepath.Join(t.TempDir(), "forwarder.db"), store.Options{DedupWindow: 24 * time.Hour, Lease: time.Minute, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	start := clock.Now().Add(-time.Minute)
	for _, sid := range []string{"CA00036104be3e2cd0aa97fe0942ed81ca", "CA/slash", "CA<&>"} {
		ga4 := storetest.GA4Delivery(sid, "every-call", start)
		ads := forwarder.Delivery{
			ID: forwarder.DeliveryID(sid, "qualified", "ads"), CallSid: sid, Rule: "qualified", Destination: "ads",
			Type: forwarder.DestinationGoogleAds, CallTime: start,
			Ads: &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick, CustomerID: "1234567890", ConversionAction: "42", Time: start},
		}
		ua := forwarder.Delivery{
			ID: forwarder.DeliveryID(sid, "legacy", "ua"), CallSid: sid, Rule: "legacy", Destination: "ua",
			Type: forwarder.DestinationUA, CallTime: start, UA: &forwarder.UAHit{TrackingID: "UA-1-1", ClientID: "1.2"},
		}
		call := &forwarder.Call{Sid: sid, Event: forwarder.EventComplete, StartDate: start}
		if err := s.Accept(t.Context(), call, []forwarder.Delivery{ga4, ads, ua}); err != nil {
			t.Fatal(err)
		}
	}
	// Each job is tried once, retried (its LastError kept), claimed
	// again and acknowledged.
	jobs, err := s.Claim(t.Context(), 100)
	if err != nil || len(jobs) != 9 {
		t.Fatalf("Claim = %d jobs, %v", len(jobs), err)
	}
	for _, j := range jobs {
		if err := s.Retry(t.Context(), j, clock.Now(), "unavailable"); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err = s.Claim(t.Context(), 100)
	if err != nil || len(jobs) != 9 || jobs[0].LastError != "unavailable" {
		t.Fatalf("Claim again = %d jobs, %v", len(jobs), err)
	}
	clock.Advance(time.Second)
	want := map[string]store.JobInfo{}
	for i := range jobs {
		j := &jobs[i]
		j.History = []store.Attempt{
			{At: clock.Now().Add(-time.Second), Took: 3 * time.Second, Result: store.AttemptRetry, Code: "503", Error: "unavailable"},
			{At: clock.Now(), Took: 38 * time.Millisecond, Result: store.AttemptDelivered, RequestID: "req-" + j.Delivery.Rule},
		}
		if j.Delivery.Ads != nil {
			j.Verdict = &forwarder.Verdict{Outcome: forwarder.OutcomeCounted, Note: "n"}
		}
		done := *j
		done.Delivery, done.Lease, done.Attempts = store.DoneDelivery(j.Delivery), "", j.Attempts+1
		want[j.Delivery.ID] = store.JobInfo{Job: done, State: store.JobDone}
	}
	clock.Advance(time.Second)
	for i, err := range s.AckMany(t.Context(), jobs) {
		if err != nil {
			t.Fatalf("AckMany %d = %v", i, err)
		}
	}
	return s, clock, jobs, want
}

// wantInfos checks that infos are the jobs of want, every field (times to
// the instant and offset, as encoding/json writes them).
func wantInfos(t *testing.T, what string, infos []store.JobInfo, want map[string]store.JobInfo) {
	t.Helper()
	for _, got := range infos {
		w, ok := want[got.Job.Delivery.ID]
		g, _ := json.Marshal(got)
		wj, _ := json.Marshal(w)
		if !ok || !bytes.Equal(g, wj) {
			t.Fatalf("%s:\n got %s\nwant %s", what, g, wj)
		}
		if !reflect.DeepEqual(got.Job.Delivery.Ads, w.Job.Delivery.Ads) || !reflect.DeepEqual(got.Job.Verdict, w.Job.Verdict) {
			t.Fatalf("%s: ads %+v, verdict %+v; want %+v, %+v", what, got.Job.Delivery.Ads, got.Job.Verdict, w.Job.Delivery.Ads, w.Job.Verdict)
		}
	}
}

// TestDoneRecordReadsAsAcknowledged: a done record, compact or not, reads
// back as the job acknowledged, every field, through every read of the
// jobs bucket; the tallies count it as it is.
func TestDoneRecordReadsAsAcknowledged(t *testing.T) {
	s, clock, jobs, want := ackedStore(t)
	sids := map[string]bool{}
	for _, j := range jobs {
		sids[j.Delivery.CallSid] = true
		stored := storedValue(t, s, j.Delivery.ID)
		if compact := bytes.HasPrefix(stored, compactHead); compact == strings.Contains(j.Delivery.CallSid, "/") {
			t.Errorf("job %s stored compact %v: %s", j.Delivery.ID, compact, stored)
		}
	}
	var all []string
	for sid := range sids {
		all = append(all, sid)
		infos, err := s.Jobs(t.Context(), sid)
		if err != nil || len(infos) != 3 {
			t.Fatalf("Jobs(%s) = %d jobs, %v", sid, len(infos), err)
		}
		wantInfos(t, "Jobs of "+sid, infos, want)
		for _, f := range []store.CallFilter{{Sid: sid}, {Sid: sid, State: "done"}, {Sid: sid, Destination: "ads"}, {Sid: sid, Rule: "legacy"}, {Sid: sid, State: "counted"}} {
			calls, _, err := s.ListCalls(t.Context(), f, "", 0)
			if err != nil || len(calls) != 1 {
				t.Fatalf("ListCalls(%+v) = %d calls, %v", f, len(calls), err)
			}
			wantInfos(t, "ListCalls", calls[0].Jobs, want)
		}
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := bucketsOf(tx)
		for _, j := range jobs {
			rec, ok, err := getRecord(b, j.Delivery.ID)
			if err != nil || !ok {
				t.Fatalf("getRecord(%s) = %v, %v", j.Delivery.ID, ok, err)
			}
			wantInfos(t, "getRecord", []store.JobInfo{rec.info()}, want)
			raw, ok, err := getRawRecord(b, j.Delivery.ID)
			if err != nil || !ok {
				t.Fatalf("getRawRecord(%s) = %v, %v", j.Delivery.ID, ok, err)
			}
			job, err := raw.job()
			if err != nil {
				t.Fatal(err)
			}
			wantInfos(t, "getRawRecord", []store.JobInfo{{Job: job, State: raw.State}}, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	storetest.CheckTallies(t, s, clock.Now(), all)
	if st, err := s.Stats(t.Context()); err != nil || st.Done != len(jobs) {
		t.Fatalf("Stats = %+v, %v; want %d done", st, err, len(jobs))
	}
	wantSwept(t, s, clock, all)
}

// wantSwept checks that past the dedup window the done marks of s, calls
// sids, are swept and counted out.
func wantSwept(t *testing.T, s *Store, clock *storetest.Clock, sids []string) {
	t.Helper()
	clock.Advance(25 * time.Hour)
	sweepAll(t, s)
	if st, err := s.Stats(t.Context()); err != nil || st.Done != 0 || st.Calls != 0 {
		t.Fatalf("Stats after the sweep = %+v, %v; want nothing", st, err)
	}
	if tl, err := s.Tallies(t.Context()); err != nil || len(tl.Destinations) != 0 {
		t.Fatalf("Tallies after the sweep = %+v, %v; want none", tl, err)
	}
	storetest.CheckTallies(t, s, clock.Now(), sids)
	if n := keysIn(t, s, bucketJobs) + keysIn(t, s, bucketDone); n != 0 {
		t.Fatalf("%d keys left in the jobs bucket and the done index after the sweep, want none", n)
	}
}

// TestFullDoneRecordStillReads: a done record as earlier releases wrote
// it, in full, compressed or plain JSON, reads as the compact one does,
// counts the same, and expires alike.
func TestFullDoneRecordStillReads(t *testing.T) {
	for _, form := range []string{"compressed", "plain JSON"} {
		t.Run(form, func(t *testing.T) {
			s, clock, jobs, want := ackedStore(t)
			err := s.db.Update(func(tx *bbolt.Tx) error {
				b := bucketsOf(tx)
				for _, j := range jobs {
					key := []byte(j.Delivery.ID)
					mark := b.jobs.Get(key)
					doneKey, ok := markedKey(key, mark)
					if !ok {
						t.Fatalf("job %s: stored %q, want a done mark", key, mark)
					}
					v, err := decodeJob(b.done, key, mark)
					if err != nil {
						return err
					}
					stored := bytes.Clone(v)
					if form == "compressed" {
						stored = encodeValue(stored)
					}
					// As earlier releases wrote it: the record in the
					// jobs bucket, its key in the done index, empty.
					if err := b.jobs.Put(key, stored); err != nil {
						return err
					}
					if err := b.done.Put(doneKey, nil); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var sids []string
			for _, j := range jobs {
				if stored := storedValue(t, s, j.Delivery.ID); bytes.HasPrefix(stored, compactHead) || !bytes.Contains(stored, []byte(`"call_sid"`)) {
					t.Fatalf("job %s not stored in full: %s", j.Delivery.ID, stored)
				}
				if !slices.Contains(sids, j.Delivery.CallSid) {
					sids = append(sids, j.Delivery.CallSid)
				}
			}
			for _, sid := range sids {
				infos, err := s.Jobs(t.Context(), sid)
				if err != nil || len(infos) != 3 {
					t.Fatalf("Jobs(%s) = %d jobs, %v", sid, len(infos), err)
				}
				wantInfos(t, "Jobs of "+sid, infos, want)
				calls, _, err := s.ListCalls(t.Context(), store.CallFilter{Sid: sid, State: "done", Destination: "web"}, "", 0)
				if err != nil || len(calls) != 1 {
					t.Fatalf("ListCalls = %d calls, %v", len(calls), err)
				}
				wantInfos(t, "ListCalls", calls[0].Jobs, want)
			}
			storetest.CheckTallies(t, s, clock.Now(), sids)
			wantSwept(t, s, clock, sids)
		})
	}
}

// FuzzCompactRecord: any record under any key restores to the bytes it
// was stored from, compact or not, and no value under any key makes a
// read panic.
func FuzzCompactRecord(f *testing.F) {
	usual := delivery("CA00036104be3e2cd0aa97fe0942ed81ca", "every-call", "rollup")
	f.Add(usual.ID, doneJSON(f, usual))
	f.Add("CA/1/r/web", doneJSON(f, delivery("CA/1", "r", "web")))
	f.Add("CA<&>/r/d", doneJSON(f, delivery("CA<&>", "r", "d")))
	f.Add("CA1/r/web", []byte(`{"job":{"delivery":{"id":0,"type":"ga4"}},"state":"done"}`))
	f.Add("//", []byte(sampleDone))
	f.Fuzz(func(t *testing.T, key string, tail []byte) {
		k := []byte(key)
		_, _ = restoreRecord(k, tail)
		_, _ = decodeJob(nil, k, tail)
		roundTrip(t, k, tail)
		// The same tail after all that k gives back: compact when k splits.
		if v, ok := keyHead(nil, k); ok {
			v = append(v, tail...)
			if got := compactRecord(k, v); !bytes.HasPrefix(got, compactHead) || len(got) > len(v) {
				t.Fatalf("compactRecord(%q, %q) = %q, want it compact", key, v, got)
			}
			roundTrip(t, k, v)
		}
	})
}

// roundTrip checks that v, stored under k as a done record, reads back as
// it is; a v compact already is stored as it is.
func roundTrip(t *testing.T, k, v []byte) {
	t.Helper()
	got := compactRecord(k, v)
	if bytes.HasPrefix(v, compactHead) {
		if !bytes.Equal(got, v) {
			t.Fatalf("compactRecord(%q, %q) = %q, want it unchanged", k, v, got)
		}
		return
	}
	if back, err := restoreRecord(k, got); err != nil || !bytes.Equal(back, v) {
		t.Fatalf("restoreRecord(%q, compactRecord(%q)) = %q, %v", k, v, back, err)
	}
	if back, err := decodeJob(nil, k, encodeJob(k, store.JobDone, v)); err != nil || !bytes.Equal(back, v) {
		t.Fatalf("decodeJob(encodeJob(%q, %q)) = %q, %v", k, v, back, err)
	}
}
