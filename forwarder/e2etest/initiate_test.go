package e2etest

import (
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/store/redistest"
)

// TestInitiateThenComplete sends the Call.Initiate of a call (no rule
// wants it, so it is stored and ignored), then its Call.Complete, which
// carries the same Call.Sid: the Complete is accepted and delivered, and
// copies of either event are duplicates. On both stores.
func TestInitiateThenComplete(t *testing.T) {
	backends := []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"embedded", func(*testing.T) []string { return nil }},
		{"redis", func(t *testing.T) []string { return sharedArgs(redistest.Start(t)) }},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t)
			f := e.start(t, nil, b.args(t)...)
			const clientID = "1873452911.1764110422"
			set := map[string]string{"Call.Sid": "CAe2einitiate" + randHex(4), "Google.Analytics.ClientId": clientID}
			steps := []struct{ sample, want string }{
				{"initiate.form", "ignored"},
				{"answered-with-gclid.form", "accepted"},
				{"answered-with-gclid.form", "duplicate"},
				{"initiate.form", "duplicate"},
			}
			for _, s := range steps {
				if reply := e.postSample(t, f, s.sample, set); reply["status"] != s.want {
					t.Fatalf("%s: reply %v, want %s", s.sample, reply, s.want)
				}
			}
			want := []string{clientID + "/phone_call", clientID + "/qualified_call"}
			Eventually(t, 10*time.Second, "the Complete's events arrive", func() bool { return len(e.emu.GA4Events()) >= len(want) })
			time.Sleep(200 * time.Millisecond) // a late duplicate would show now
			if lost, dup := account(want, e.received()); len(lost)+len(dup) > 0 {
				t.Errorf("lost=%v duplicated=%v", lost, dup)
			}
		})
	}
}
