package e2etest

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// uaRules sends every completed call as one legacy Universal Analytics
// event hit.
const uaRules = `destinations:
  legacy: {type: ua, tracking_id: UA-12345-1}
rules:
  - name: every-call
    send:
      - to: legacy
        category: Phone call
        action: "{{Call.Disposition}}"
        label: "{{Call.To.Name}}"
        value: "{{Call.Duration}}"
        non_interaction: true
`

// TestUAHits: with a ua destination in the rules and --ua-endpoint
// pointing at the emulator, each call becomes exactly one UA event hit
// carrying the rule's category, the call's disposition, number name and
// duration, the tracking id and the call's GA client id.
func TestUAHits(t *testing.T) {
	e := newEnv(t)
	must(t, os.WriteFile(filepath.Join(e.dir, "rules.yaml"), []byte(uaRules), 0o600))
	logs := &Logs{}
	f := e.start(t, logs, "--ua-endpoint", e.google.URL)

	calls := []call{newCall(1, "ANSWERED", 187), newCall(2, "NO ANSWER", 0), newCall(3, "BUSY", 4)}
	for _, c := range calls {
		if status, body := e.post(t, f, c); status != http.StatusOK {
			t.Fatalf("post %s: status %d %v, want 200", c.sid, status, body)
		}
	}
	Eventually(t, 10*time.Second, "UA hits arrive", func() bool { return len(e.emu.UAHits()) >= len(calls) })

	hits := e.emu.UAHits()
	if len(hits) != len(calls) {
		t.Errorf("the collector kept %d hits, want %d (one per call)", len(hits), len(calls))
	}
	if dropped := e.emu.UADropped(); len(dropped) > 0 {
		t.Errorf("the collector dropped %d payloads, want none: %+v", len(dropped), dropped)
	}
	for _, c := range calls {
		var got []int
		for i, h := range hits {
			if h.ClientID == c.clientID {
				got = append(got, i)
			}
		}
		if len(got) != 1 {
			t.Errorf("call %s: %d hits with its client id, want exactly 1", c.sid, len(got))
			continue
		}
		h := hits[got[0]]
		wantValue := strconv.Itoa(c.duration)
		gotValue := "none"
		if h.Value != nil {
			gotValue = strconv.FormatInt(*h.Value, 10)
		}
		if h.TrackingID != "UA-12345-1" || h.HitType != "event" || h.Category != "Phone call" ||
			h.Action != c.disposition || h.Label != "Website" || gotValue != wantValue || !h.NonInteraction {
			t.Errorf("call %s: hit tid %q t %q ec %q ea %q el %q ev %s ni %v,\nwant tid UA-12345-1 t event ec \"Phone call\" ea %q el \"Website\" ev %s ni true",
				c.sid, h.TrackingID, h.HitType, h.Category, h.Action, h.Label, gotValue, h.NonInteraction, c.disposition, wantValue)
		}
		if h.QueueTimeMillis <= 0 || h.QueueTimeMillis > (4*time.Hour).Milliseconds() {
			t.Errorf("call %s: qt %d ms, want the call's age (about 5 minutes, within the 4 h limit)", c.sid, h.QueueTimeMillis)
		}
	}
	e.assertNoPersonalData(t, logs, calls)
}
