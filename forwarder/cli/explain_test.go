package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/examples"
	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/mapping"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Golden files and time. explain prints the GA4 payloads as they would be
// sent now, and a payload's timestamp_micros depends on the call's start
// and on now: it is the start when that is under 72 hours old, and past
// that the payload is replaced by an "event too old" error. The samples
// have fixed dates, so their explanation changes as the calendar moves.
//
// To keep the golden files stable and still show full payloads, each
// sample is explained with its Call.StartDate moved to ten minutes ago
// (as the demo sends them), and that one instant is then written as
// "<START>" (RFC 3339, in call.start_date, call_time and ga4.time) and
// "<START_MICROS>" (timestamp_micros) in the output before comparing.
// Nothing else is normalised: any other change is a real change.

// explainSample writes the sample name (a path in examples.FS) to a
// temporary file with its start date moved to start, and returns the
// file's path and content.
func explainSample(t *testing.T, name string, start time.Time) (string, []byte) {
	t.Helper()
	body, err := examples.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	body, err = examples.Set(path.Base(name), body, map[string]string{"Call.StartDate": examples.StartDate(start)})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), path.Base(name))
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return p, body
}

// normalise replaces the instant start in explain's output by placeholders.
func normalise(out string, start time.Time) string {
	out = strings.ReplaceAll(out, strconv.Quote(start.UTC().Format(time.RFC3339Nano)), `"<START>"`)
	return strings.ReplaceAll(out, strconv.FormatInt(start.UnixMicro(), 10), `"<START_MICROS>"`)
}

// decodedExplanation is explain's output read back.
type decodedExplanation struct {
	Call     *forwarder.Call            `json:"call"`
	Rules    []mapping.Outcome          `json:"rules"`
	Payloads map[string]json.RawMessage `json:"payloads"`
}

// gaPayload is the part of a GA4 Measurement Protocol body checked here.
type gaPayload struct {
	ClientID        string `json:"client_id"`
	TimestampMicros int64  `json:"timestamp_micros"`
	Events          []struct {
		Name   string         `json:"name"`
		Params map[string]any `json:"params"`
	} `json:"events"`
	Error string `json:"error"`
}

func TestExplainSamples(t *testing.T) {
	clearEnv(t)
	rules, err := mapping.Load(exampleRules)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	names, err := fsGlob(examples.FS, "webhooks/*")
	if err != nil || len(names) == 0 {
		t.Fatalf("samples: %v, %v", names, err)
	}
	for _, name := range names {
		t.Run(path.Base(name), func(t *testing.T) {
			file, body := explainSample(t, name, start)
			r := run(t, nil, "explain", "--rules", exampleRules, file)
			if r.code != 0 {
				t.Fatalf("exit %d, want 0\n%v", r.code, r)
			}

			var got decodedExplanation
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stdout is not an explanation: %v\n%s", err, r.stdout)
			}
			if got.Call == nil || got.Call.Sid == "" || !got.Call.StartDate.Equal(start) {
				t.Fatalf("decoded call %+v, want a Sid and start date %v", got.Call, start)
			}
			if len(got.Rules) != len(rules.RuleNames()) {
				t.Errorf("%d rule outcomes, want one per rule (%v)", len(got.Rules), rules.RuleNames())
			}
			planned := map[string]*forwarder.GA4Event{} // by delivery ID; nil when not GA4
			ads := map[string]*forwarder.AdsConversion{}
			for i, o := range got.Rules {
				if o.Rule != rules.RuleNames()[i] {
					t.Errorf("outcome %d is for rule %q, want %q (file order)", i, o.Rule, rules.RuleNames()[i])
				}
				if !o.Matched && o.Reason == "" {
					t.Errorf("rule %q did not match and gives no reason", o.Rule)
				}
				for _, d := range o.Deliveries {
					planned[d.ID] = d.GA4
					if d.Ads != nil {
						ads[d.ID] = d.Ads
					}
				}
			}
			for id := range got.Payloads {
				if _, ok := planned[id]; !ok {
					t.Errorf("payload for %s, which no rule planned", id)
				}
			}
			for id, a := range ads {
				var p struct {
					API    string          `json:"api"`
					Method string          `json:"method"`
					Body   json.RawMessage `json:"body"`
				}
				if err := json.Unmarshal(got.Payloads[id], &p); err != nil || p.API != a.Backend || p.Method == "" || len(p.Body) < 2 {
					t.Errorf("Google Ads payload of %s = %s (%v), want the %s request", id, got.Payloads[id], err, a.Backend)
				}
			}
			for id, ev := range planned {
				if ev == nil {
					continue // not a GA4 delivery
				}
				var p gaPayload
				if err := json.Unmarshal(got.Payloads[id], &p); err != nil {
					t.Errorf("payload of %s: %v (%s)", id, err, got.Payloads[id])
					continue
				}
				if p.Error != "" || len(p.Events) != 1 || p.Events[0].Name != ev.Name || p.ClientID != ev.ClientID {
					t.Errorf("payload of %s = %+v, want one %q event for the planned client id", id, p, ev.Name)
				}
				if p.TimestampMicros != start.UnixMicro() {
					t.Errorf("payload of %s: timestamp_micros %d, want the call start %d", id, p.TimestampMicros, start.UnixMicro())
				}
			}

			out := normalise(r.stdout, start)
			golden := filepath.Join("testdata", "explain", path.Base(name)+".golden.json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("explain output differs from %s (run go test -update if the change is intended)\n--- got:\n%s\n--- want:\n%s", golden, out, want)
			}

			// The same webhook read from stdin explains the same.
			fromStdin := run(t, bytes.NewReader(body), "explain", "--rules", exampleRules, "-")
			if fromStdin.code != 0 || fromStdin.stdout != r.stdout {
				t.Errorf("explain - (stdin) differs from explain %s:\n%v\n--- from the file:\n%s", file, fromStdin, r.stdout)
			}
		})
	}
}

func TestExplainFailures(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStderr string
	}{
		{"no webhook file", []string{"--rules", exampleRules}, "", 2, "usage: forwarder explain"},
		{"two webhook files", []string{"--rules", exampleRules, "a.form", "b.form"}, "", 2, "usage: forwarder explain"},
		{"missing webhook file", []string{"--rules", exampleRules, "testdata/no-such.form"}, "", 1, "read webhook"},
		{"missing rules file", []string{"--rules", "testdata/no-such-rules.yaml", "-"}, "", 1, "no-such-rules.yaml"},
		{"broken rules file", []string{"--rules", "testdata/check/unknown-key.yaml", "-"}, "", 1, `unknown key "wen"`},
		{"not a webhook", []string{"--rules", exampleRules, "-"}, "Action=Webhook&Event=Call.Complete", 1, "forwarder explain: -:"},
		{"broken JSON webhook", []string{"--rules", exampleRules, "-"}, `{"Call.Sid": `, 1, "forwarder explain: -:"},
		{"webhook over the size limit on stdin", []string{"--rules", exampleRules, "-"}, "Action=Webhook&X=" + strings.Repeat("x", 64<<10), 1, "larger than the limit of 65536 bytes"},
		{"webhook over the size limit in a file", []string{"--rules", exampleRules, bigWebhookFile(t)}, "", 1, "larger than the limit of 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, strings.NewReader(tt.stdin), append([]string{"explain"}, tt.args...)...)
			if r.code != tt.wantCode || !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("got %v\nwant exit %d and stderr containing %q", r, tt.wantCode, tt.wantStderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing on failure", r.stdout)
			}
		})
	}
}

// bigWebhookFile writes a webhook one byte over the webhook body limit.
func bigWebhookFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "big.form")
	body := "Action=Webhook&X=" + strings.Repeat("x", 64<<10)
	if err := os.WriteFile(p, []byte(body[:64<<10+1]), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExplainTooOldCall: a call past GA4's backdating limit is planned but
// its payload is replaced by the reason it cannot be sent.
func TestExplainTooOldCall(t *testing.T) {
	clearEnv(t)
	start := time.Now().Add(-5 * 24 * time.Hour).UTC().Truncate(time.Second)
	file, _ := explainSample(t, "webhooks/answered-with-gclid.form", start)
	r := run(t, nil, "explain", "--rules", exampleRules, file)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%v", r.code, r)
	}
	var got decodedExplanation
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if len(got.Payloads) == 0 {
		t.Fatalf("no payloads, want one error per planned delivery\n%s", r.stdout)
	}
	for id, raw := range got.Payloads {
		if strings.HasSuffix(id, "/google-ads") {
			continue // Google Ads takes calls up to 90 days old
		}
		var p gaPayload
		if err := json.Unmarshal(raw, &p); err != nil || !strings.Contains(p.Error, "backdating limit") || len(p.Events) != 0 {
			t.Errorf("payload of %s = %s, want only an error naming the backdating limit", id, raw)
		}
	}
}

// TestExplainDroppedField: a malformed optional field is named, with the
// reason, and the call is still explained.
func TestExplainDroppedField(t *testing.T) {
	clearEnv(t)
	start := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	_, body := explainSample(t, "webhooks/answered-with-gclid.form", start)
	body = append(body, "&Call.Survey.Value=12.5"...)
	r := run(t, bytes.NewReader(body), "explain", "--rules", exampleRules, "-")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%v", r.code, r)
	}
	var got decodedExplanation
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	want := []forwarder.DroppedField{{Field: "Call.Survey.Value", Reason: `not an integer: "12.5"`}}
	if got.Call == nil || !slices.Equal(got.Call.Dropped, want) || len(got.Payloads) == 0 {
		t.Errorf("call %+v with %d payloads, want %+v dropped and the call explained", got.Call, len(got.Payloads), want)
	}
}

// TestExplainText: on a terminal (forced here with --text) explain prints
// a summary a person reads; --json keeps the JSON.
func TestExplainText(t *testing.T) {
	clearEnv(t)
	start := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	_, body := explainSample(t, "webhooks/answered-with-gclid.form", start)
	body = append(body, "&Call.Survey.Value=12.5"...)
	r := run(t, bytes.NewReader(body), "explain", "--text", "--rules", exampleRules, "-")
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%v", r.code, r)
	}
	for _, want := range []string{
		"Call CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b (Call.Complete)",
		"Dropped: Call.Survey.Value: not an integer: \"12.5\"",
		"every-call: matched",
		"CA0e8f9a7b6c5d4e3f2a1b0c9d8e7f6a5b/every-call/website (ga4",
		"POST /mp/collect",
		"events:ingest",
		`"phone_call"`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "+61412345678") {
		t.Errorf("text summary shows the caller's number in clear:\n%s", r.stdout)
	}
	if json.Valid([]byte(r.stdout)) {
		t.Errorf("--text printed JSON")
	}
	j := run(t, bytes.NewReader(body), "explain", "--json", "--rules", exampleRules, "-")
	if j.code != 0 || !json.Valid([]byte(j.stdout)) {
		t.Errorf("--json: exit %d, valid JSON %v", j.code, json.Valid([]byte(j.stdout)))
	}
	both := run(t, bytes.NewReader(body), "explain", "--json", "--text", "--rules", exampleRules, "-")
	if both.code != 2 {
		t.Errorf("--json with --text: exit %d, want 2 (usage)", both.code)
	}
}
