package cli

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExplainUA: explain prints a UA delivery's payload as the form body
// the collector would receive, one JSON string.
func TestExplainUA(t *testing.T) {
	clearEnv(t)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	const src = `destinations:
  legacy: {type: ua, tracking_id: UA-12345-1}
rules:
  - name: every-call
    send:
      - to: legacy
        category: Phone call
        action: "{{Call.Disposition}}"
        value: "{{Call.Duration}}"
        campaign: true
`
	if err := os.WriteFile(rules, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	file, _ := explainSample(t, "webhooks/answered-with-gclid.form", start)
	r := run(t, nil, "explain", "--rules", rules, file)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%v", r.code, r)
	}
	var got decodedExplanation
	if err := json.NewDecoder(strings.NewReader(r.stdout)).Decode(&got); err != nil {
		t.Fatalf("stdout is not an explanation: %v\n%s", err, r.stdout)
	}
	id := got.Call.Sid + "/every-call/legacy"
	raw, ok := got.Payloads[id]
	if !ok {
		t.Fatalf("no payload for %s; payloads: %v", id, got.Payloads)
	}
	var body string
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("payload %s is not a JSON string: %v", raw, err)
	}
	v, err := url.ParseQuery(body)
	if err != nil {
		t.Fatalf("payload %q is not a form body: %v", body, err)
	}
	want := map[string]string{
		"v": "1", "tid": "UA-12345-1", "cid": got.Call.GAClientID, "t": "event",
		"ec": "Phone call", "ea": string(got.Call.Disposition), "ev": strconv.Itoa(*got.Call.Duration),
		"cs": got.Call.Attribution.Source,
	}
	for k, w := range want {
		if v.Get(k) != w || w == "" {
			t.Errorf("payload %s=%q, want %q (non-empty)", k, v.Get(k), w)
		}
	}
	if qt, err := strconv.ParseInt(v.Get("qt"), 10, 64); err != nil || qt < (10*time.Minute).Milliseconds() {
		t.Errorf("payload qt=%q, want the call's age, at least 10 minutes in ms", v.Get("qt"))
	}
}
