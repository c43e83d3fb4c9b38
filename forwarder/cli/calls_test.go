package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/app"
	"github.com/callforward/callforward/forwarder/callview"
	"github.com/callforward/callforward/forwarder/callview/viewtest"
	"github.com/callforward/callforward/forwarder/store/redistest"
)

// TestCalls runs calls list and calls show on both stores filled with a
// call in each state, and checks that no output shows personal data.
func TestCalls(t *testing.T) {
	clearEnv(t)
	backends := []struct {
		name string
		open func(t *testing.T) (app.StoreConfig, []string)
	}{
		{"embedded", func(t *testing.T) (app.StoreConfig, []string) {
			dir := t.TempDir()
			return app.StoreConfig{DataDir: dir}, []string{"--data-dir", dir}
		}},
		{"redis", func(t *testing.T) (app.StoreConfig, []string) {
			url := redistest.Start(t).URL()
			return app.StoreConfig{RedisURL: url}, []string{"--redis-url", url}
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			cfg, flags := b.open(t)
			st, err := app.OpenStore(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			viewtest.Seed(t, st)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			rules := []string{"--rules", "testdata/ga4-rules.yaml"}
			steps := []struct {
				name       string
				args       []string
				wantCode   int
				wantStdout []string
			}{
				{"list", []string{"list"}, 0, []string{"4 call(s)", viewtest.SidGA4, "every-call/website", "sent (GA4 does not report processing)",
					"rejected by Google: EXPIRED_CLICK", "awaiting", "dead letter (not delivered)"}},
				{"list rejected", []string{"list", "--state", "rejected"}, 0, []string{"1 call(s)", viewtest.SidRejected}},
				{"list awaiting", []string{"list", "--state", "awaiting", "--destination", "ads"}, 0, []string{"1 call(s)", viewtest.SidAwaiting}},
				{"list by rule", []string{"list", "--rule", "every-call", "--limit", "1"}, 0, []string{"1 call(s)"}},
				{"list by sid", []string{"list", "--sid", "CAVIEW4"}, 0, []string{"1 call(s)", viewtest.SidDead}},
				{"list bad state", []string{"list", "--state", "lost"}, 1, nil},
				{"show ga4", append([]string{"show", viewtest.SidGA4}, rules...), 0, []string{
					"Call " + viewtest.SidGA4, "arrived", "•••678", "1234…", "EXPI…", "verdicts from the rules in force",
					"every-call", "matched, plans " + viewtest.SidGA4 + "/every-call/website", "qualified-call", "matched",
					"state     done, 2 attempt(s)", "HTTP_503: 503 Service Unavailable", "delivered", "sent (GA4 does not report processing)"}},
				{"show rejected", append([]string{"show", viewtest.SidRejected}, rules...), 0, []string{
					"request   " + viewtest.RequestRejected, "outcome   rejected by Google: EXPIRED_CLICK"}},
				{"show flags first", append(append([]string{"show"}, rules...), viewtest.SidAwaiting), 0, []string{"outcome   awaiting"}},
				{"show unknown", append([]string{"show", "CANOPE"}, rules...), 1, nil},
				{"show no sid", []string{"show"}, 2, nil},
			}
			for _, s := range steps {
				args := append(append([]string{"calls"}, s.args...), flags...)
				r := run(t, nil, args...)
				if r.code != s.wantCode {
					t.Errorf("%s: exit %d, want %d\n%v", s.name, r.code, s.wantCode, r)
				}
				for _, w := range s.wantStdout {
					if !strings.Contains(r.stdout, w) {
						t.Errorf("%s: stdout does not contain %q\n%v", s.name, w, r)
					}
				}
				assertNoSecrets(t, s.name, r.stdout+r.stderr)
			}

			r := run(t, nil, append([]string{"calls", "show", viewtest.SidRejected, "--json"}, append(rules, flags...)...)...)
			var v callview.CallView
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 {
				t.Fatalf("show --json: %v\n%v", err, r)
			}
			if len(v.Deliveries) != 1 || v.Deliveries[0].Verdict == nil || v.Deliveries[0].Verdict.Reason != "EXPIRED_CLICK" ||
				v.Deliveries[0].RequestID != viewtest.RequestRejected || v.Arrived.IsZero() || len(v.Rules) != 2 {
				t.Errorf("show --json = %+v", v)
			}
			assertNoSecrets(t, "show --json", r.stdout)

			r = run(t, nil, append([]string{"calls", "list", "--json"}, flags...)...)
			var list []callview.CallSummary
			if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 4 {
				t.Fatalf("list --json: %d calls, %v\n%v", len(list), err, r)
			}
		})
	}
}

// assertNoSecrets fails when out shows any seeded personal data.
func assertNoSecrets(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range viewtest.Secrets {
		if strings.Contains(out, s) {
			t.Errorf("%s: output shows personal data %q:\n%s", what, s, out)
		}
	}
}

// TestCallsStoreInUse: on an embedded store held by a running forwarder,
// both commands explain what to do, like the other operator commands.
func TestCallsStoreInUse(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	st := openDataDir(t, dir)
	defer st.Close()
	for _, args := range [][]string{{"calls", "list"}, {"calls", "show", "CA1", "--rules", "testdata/ga4-rules.yaml"}} {
		r := run(t, nil, append(args, "--data-dir", dir)...)
		if r.code != 1 || !strings.Contains(r.stderr, "held by a running forwarder") {
			t.Errorf("%v with the store held: %v\nwant exit 1 explaining that a running forwarder holds it", args, r)
		}
	}
}
