package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
)

// openDataDir opens the embedded store the operator commands open for
// --data-dir dir.
func openDataDir(t *testing.T, dir string) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(dir, "callforward.db"), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return st
}

// buryAll stores call sid with one delivery per rule and dead-letters
// each with code, returning the delivery ids.
func buryAll(t *testing.T, st *bolt.Store, sid, code string, rules ...string) []string {
	t.Helper()
	ctx := context.Background()
	call := &forwarder.Call{Sid: sid, Event: forwarder.EventComplete}
	var ds []forwarder.Delivery
	for _, r := range rules {
		ds = append(ds, forwarder.Delivery{ID: forwarder.DeliveryID(sid, r, "website"), CallSid: sid, Rule: r, Destination: "website", Type: forwarder.DestinationGA4})
	}
	if err := st.Accept(ctx, call, ds); err != nil {
		t.Fatalf("accept: %v", err)
	}
	jobs, err := st.Claim(ctx, len(ds))
	if err != nil || len(jobs) != len(ds) {
		t.Fatalf("claim: %d jobs, %v; want %d", len(jobs), err, len(ds))
	}
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		if err := st.Bury(ctx, j, "permanent "+code+": rejected\nby Google", code); err != nil {
			t.Fatalf("bury: %v", err)
		}
		ids[i] = j.Delivery.ID
	}
	return ids
}

func TestDeadletter(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	st := openDataDir(t, dir)
	bad := buryAll(t, st, "CA1", "http_400", "every-call", "qualified-call")
	gone := buryAll(t, st, "CA2", "event_too_old", "every-call")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"list all", []string{"list"}, 0, []string{"WHEN", bad[0], bad[1], gone[0], "http_400", "rejected by Google", "3 dead letter(s)"}, nil},
		{"list by code", []string{"list", "--code", "event_too_old"}, 0, []string{gone[0], "1 dead letter(s)"}, nil},
		{"retry needs a selection", []string{"retry"}, 1, nil, []string{"retry and drop need a selection"}},
		{"no verb", nil, 2, nil, []string{"usage: forwarder deadletter list|retry|drop"}},
		{"unknown verb", []string{"bury"}, 2, nil, []string{"usage: forwarder deadletter"}},
		{"retry one call", []string{"retry", "--call", "CA1"}, 0, []string{"2 dead letter(s) retried"}, nil},
		{"drop everything left", []string{"drop", "--all"}, 0, []string{"1 dead letter(s) dropped"}, nil},
		{"nothing left", []string{"list"}, 0, []string{"0 dead letter(s)"}, nil},
	}
	for _, s := range steps {
		args := append([]string{"deadletter"}, s.args...)
		if len(s.args) > 0 && s.args[0] != "bury" {
			args = append(args, "--data-dir", dir)
		}
		r := run(t, nil, args...)
		if r.code != s.wantCode {
			t.Errorf("%s: exit %d, want %d\n%v", s.name, r.code, s.wantCode, r)
		}
		for _, w := range s.wantStdout {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s: stdout does not contain %q\n%v", s.name, w, r)
			}
		}
		for _, w := range s.wantStderr {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: stderr does not contain %q\n%v", s.name, w, r)
			}
		}
	}

	st = openDataDir(t, dir)
	defer st.Close()
	stats, err := st.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Pending != 2 || stats.Dead != 0 {
		t.Errorf("store after retry and drop: %+v, want the 2 retried pending and no dead letter", stats)
	}
	jobs, err := st.Jobs(context.Background(), "CA2")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].State != store.JobDropped {
		t.Errorf("dropped dead letter: %+v, want its tombstone", jobs)
	}
}

func TestDeadletterListJSON(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	st := openDataDir(t, dir)
	ids := buryAll(t, st, "CA1", "http_400", "every-call")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		filter []string
		want   []string
	}{
		{nil, ids},
		{[]string{"--id", ids[0]}, ids},
		{[]string{"--rule", "every-call", "--destination", "website"}, ids},
		{[]string{"--rule", "booking"}, nil},
	} {
		r := run(t, nil, append([]string{"deadletter", "list", "--json", "--data-dir", dir}, tt.filter...)...)
		var got []store.DeadLetter
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
			t.Fatalf("list --json %v: %v, not a JSON list: %v", tt.filter, r, err)
		}
		var gotIDs []string
		for _, d := range got {
			gotIDs = append(gotIDs, d.Job.Delivery.ID)
			if d.Code != "http_400" || d.Reason == "" {
				t.Errorf("dead letter %+v, want code http_400 and a reason", d)
			}
		}
		if strings.Join(gotIDs, " ") != strings.Join(tt.want, " ") {
			t.Errorf("list --json %v listed %v, want %v", tt.filter, gotIDs, tt.want)
		}
	}
}

func TestDeadletterStoreInUse(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	st := openDataDir(t, dir)
	defer st.Close()
	r := run(t, nil, "deadletter", "list", "--data-dir", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "held by a running forwarder") {
		t.Errorf("with the store held: %v\nwant exit 1 explaining that a running forwarder holds it", r)
	}
	if !strings.Contains(r.stderr, bolt.ErrInUse.Error()) {
		t.Errorf("stderr does not name %q\n%v", bolt.ErrInUse, r)
	}
}
