package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestExplainPreviousCall(t *testing.T) {
	clearEnv(t)
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	err := os.WriteFile(rules, []byte(`destinations:
  web: {type: ga4, measurement_id: G-TEST1234}
rules:
  - name: new-caller
    when: {first_call_within_days: 30}
    send: [{to: web, event: new_caller}]
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	known, _ := explainSample(t, "webhooks/answered-with-gclid.form", start)
	withheld, _ := explainSample(t, "webhooks/anonymous-static.form", start)
	tests := []struct {
		name     string
		file     string
		args     []string
		matched  bool
		reason   string // a piece of the reason when not matched
		previous time.Time
	}{
		{"not looked up", known, nil, false, "not looked up", time.Time{}},
		{"no earlier call", known, []string{"--previous-call", "none"}, true, "", time.Time{}},
		{"three days before, in hours", known, []string{"--previous-call", "72h"}, false, "the caller called 3 days before this call", start.Add(-72 * time.Hour)},
		{"three days before, in days", known, []string{"--previous-call", "3d"}, false, "the caller called 3 days before this call", start.Add(-72 * time.Hour)},
		{"45 days before", known, []string{"--previous-call", "45d"}, true, "", start.Add(-45 * 24 * time.Hour)},
		{"withheld number", withheld, []string{"--previous-call", "none"}, false, "the caller withheld the number", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, append(append([]string{"explain", "--rules", rules}, tc.args...), tc.file)...)
			if r.code != 0 {
				t.Fatalf("exit %d, want 0\n%v", r.code, r)
			}
			var got decodedExplanation
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("stdout is not an explanation: %v\n%s", err, r.stdout)
			}
			o := got.Rules[0]
			if o.Matched != tc.matched || !strings.Contains(o.Reason, tc.reason) {
				t.Errorf("outcome = matched %v, %q; want matched %v, reason containing %q", o.Matched, o.Reason, tc.matched, tc.reason)
			}
			if h := got.Call.History; tc.args != nil && (h == nil || !h.Previous.Equal(tc.previous)) {
				t.Errorf("call history = %+v, want the previous call at %v", h, tc.previous)
			}
		})
	}
	for _, bad := range []string{"soon", "0d", "-3d", "0s", "-72h", "3 days"} {
		r := run(t, nil, "explain", "--rules", rules, "--previous-call", bad, known)
		if r.code != 1 || !strings.Contains(r.stderr, "--previous-call") || r.stdout != "" {
			t.Errorf("--previous-call %q: got %v, want exit 1 naming the flag, nothing on stdout", bad, r)
		}
	}
}
