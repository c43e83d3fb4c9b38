package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/examples"
	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/mapping"
)

// TestReplay stores a call planned under the "every-call" rule alone, then
// re-plans it under ga4Rules: only the delivery the other rules
// add is queued, once.
func TestReplay(t *testing.T) {
	clearEnv(t)
	body, err := examples.FS.ReadFile("webhooks/answered-with-gclid.form")
	if err != nil {
		t.Fatal(err)
	}
	call, err := decodeWebhook("answered-with-gclid.form", body)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := mapping.Load(ga4Rules)
	if err != nil {
		t.Fatal(err)
	}
	var first []forwarder.Delivery
	for _, d := range rules.Evaluate(call) {
		if d.Rule == "every-call" {
			first = append(first, d)
		}
	}
	dir := t.TempDir()
	st := openDataDir(t, dir)
	if err := st.Accept(context.Background(), call, first); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	added := forwarder.DeliveryID(call.Sid, "qualified-call", "website")

	steps := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{"no calls named", nil, 1, nil, []string{"name the calls: --call SID"}},
		{"bad --since", []string{"--since", "yesterday"}, 1, nil, []string{`--since "yesterday"`}},
		{"unknown call", []string{"--call", "CA-unknown"}, 1, nil, []string{"call CA-unknown:"}},
		{"dry run", []string{"--call", call.Sid, "--dry-run"}, 0, []string{"would queue " + added, "1 call(s) re-planned under " + ga4Rules + ": 1 new deliveries would be queued"}, nil},
		{"replay", []string{"--since", "1h"}, 0, []string{call.Sid + ": 1 new deliveries queued", "1 call(s) re-planned", "1 new deliveries queued"}, nil},
		{"replay again adds nothing", []string{"--call", call.Sid}, 0, []string{"1 call(s) re-planned under " + ga4Rules + ": 0 new deliveries queued"}, nil},
	}
	for _, s := range steps {
		args := append([]string{"replay", "--data-dir", dir, "--rules", ga4Rules}, s.args...)
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
	jobs, err := st.Jobs(context.Background(), call.Sid)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.Job.Delivery.ID)
	}
	want := []string{first[0].ID, added}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("jobs after replay: %v, want %v", ids, want)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-11-25T00:00:00Z", want: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)},
		{in: "48h", want: now.Add(-48 * time.Hour)},
		{in: "0s", want: now},
		{in: "-1h", wantErr: true},
		{in: "2026-11-25", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseSince(tt.in, now)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseSince(%q) = %v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestReplayLeavesDropped: a delivery dropped with "deadletter drop" stays
// dropped through replay, unless --include-dropped asks for it again.
func TestReplayLeavesDropped(t *testing.T) {
	clearEnv(t)
	body, err := examples.FS.ReadFile("webhooks/answered-with-gclid.form")
	if err != nil {
		t.Fatal(err)
	}
	call, err := decodeWebhook("answered-with-gclid.form", body)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := mapping.Load(ga4Rules)
	if err != nil {
		t.Fatal(err)
	}
	planned := rules.Evaluate(call)
	if len(planned) != 2 {
		t.Fatalf("rules plan %d deliveries, want 2", len(planned))
	}
	ctx := context.Background()
	dir := t.TempDir()
	st := openDataDir(t, dir)
	if err := st.Accept(ctx, call, planned); err != nil {
		t.Fatal(err)
	}
	jobs, err := st.Claim(ctx, 10)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("Claim = %d jobs, %v; want 2", len(jobs), err)
	}
	for _, j := range jobs {
		if err := st.Bury(ctx, j, "permanent http_400", "http_400"); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name   string
		args   []string
		stdout []string
	}{
		{"drop", []string{"deadletter", "drop", "--all"}, []string{"2 dead letter(s) dropped"}},
		{"replay", []string{"replay", "--call", call.Sid}, []string{"0 new deliveries queued"}},
		{"dry run including dropped", []string{"replay", "--call", call.Sid, "--include-dropped", "--dry-run"},
			[]string{"would queue " + planned[0].ID, "would queue " + planned[1].ID, "2 new deliveries would be queued"}},
		{"replay including dropped", []string{"replay", "--call", call.Sid, "--include-dropped"}, []string{"2 new deliveries queued"}},
		{"again", []string{"replay", "--call", call.Sid, "--include-dropped"}, []string{"0 new deliveries queued"}},
	}
	for _, s := range steps {
		args := append(s.args, "--data-dir", dir)
		if s.args[0] == "replay" {
			args = append(args, "--rules", ga4Rules)
		}
		r := run(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("%s: exit %d, want 0\n%v", s.name, r.code, r)
		}
		for _, w := range s.stdout {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s: stdout does not contain %q\n%v", s.name, w, r)
			}
		}
	}
	st = openDataDir(t, dir)
	defer st.Close()
	infos, err := st.Jobs(ctx, call.Sid)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		if info.State != store.JobPending || info.Job.Attempts != 0 {
			t.Errorf("job %s after replay: %s with %d attempts, want pending with 0", info.Job.Delivery.ID, info.State, info.Job.Attempts)
		}
	}
}
