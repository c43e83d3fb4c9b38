package adminapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/callview"
	"github.com/callforward/callforward/forwarder/callview/viewtest"
	"github.com/callforward/callforward/forwarder/credentials"
	"github.com/callforward/callforward/forwarder/logtest"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/forwarder/store/redis"
	"github.com/callforward/callforward/forwarder/store/redistest"
	"github.com/callforward/callforward/mapping"
)

const (
	goodToken  = "admin-token-0123456789abcdef"
	otherToken = "second-token-fedcba9876543210"
)

// server serves the read API over a store seeded with viewtest's calls.
type server struct {
	url  string
	logs *logtest.Buffer
}

func start(t *testing.T, open func(t *testing.T) (store.Store, error)) *server {
	t.Helper()
	st, err := open(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	viewtest.Seed(t, st)
	src, err := os.ReadFile("../cli/testdata/ga4-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := mapping.Parse("rules.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	h := New(Config{
		Store: st,
		Rules: func() *mapping.Rules { return rules },
		Tokens: []credentials.AdminToken{
			{Label: "dashboard", Token: credentials.Secret(goodToken)},
			{Label: "console", Token: credentials.Secret(otherToken)},
		},
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &server{url: srv.URL, logs: logs}
}

// get requests path with the header auth ("" for none) and returns the
// status, the WWW-Authenticate header and the body.
func (s *server) get(t *testing.T, path, auth string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body
}

// getJSON requests path with the good token, wants 200 and decodes into v.
func (s *server) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	code, _, body := s.get(t, path, "Bearer "+goodToken)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	assertNoSecrets(t, path, string(body))
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

func openBolt(t *testing.T) (store.Store, error) {
	return bolt.Open(filepath.Join(t.TempDir(), "callforward.db"), store.Options{})
}

func openRedis(t *testing.T) (store.Store, error) {
	return redis.Open(context.Background(), redistest.Start(t).URL(), store.Options{}, redis.Options{})
}

func TestAuthentication(t *testing.T) {
	s := start(t, openBolt)
	tests := []struct {
		name      string
		auth      string
		wantCode  int
		challenge bool
	}{
		{"no header", "", http.StatusUnauthorized, true},
		{"not bearer", "Basic " + goodToken, http.StatusUnauthorized, true},
		{"empty bearer", "Bearer ", http.StatusUnauthorized, true},
		{"wrong token", "Bearer " + strings.Repeat("x", len(goodToken)), http.StatusForbidden, false},
		{"wrong length", "Bearer short", http.StatusForbidden, false},
		{"prefix of a token", "Bearer " + goodToken[:len(goodToken)-1], http.StatusForbidden, false},
		{"webhook-like token", "Bearer " + goodToken + "x", http.StatusForbidden, false},
		{"good token", "Bearer " + goodToken, http.StatusOK, false},
		{"second token, lower-case scheme", "bearer " + otherToken, http.StatusOK, false},
	}
	var forbidden []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, challenge, body := s.get(t, "/admin/api/overview", tt.auth)
			if code != tt.wantCode {
				t.Errorf("status %d, want %d: %s", code, tt.wantCode, body)
			}
			if got := challenge != ""; got != tt.challenge {
				t.Errorf("WWW-Authenticate %q, want one: %v", challenge, tt.challenge)
			}
			if code == http.StatusForbidden {
				forbidden = append(forbidden, string(body))
			}
		})
	}
	for _, b := range forbidden[1:] {
		if b != forbidden[0] {
			t.Errorf("403 answers differ (%q, %q): they must not tell what was wrong", forbidden[0], b)
		}
	}
	logs := s.logs.String()
	for _, tok := range []string{goodToken, otherToken, "short"} {
		if strings.Contains(logs, tok) {
			t.Errorf("the log shows a token %q:\n%s", tok, logs)
		}
	}
	for _, want := range []string{`"token_label":"dashboard"`, `"token_label":"console"`, "token refused", "request without a token"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
}

func TestEndpoints(t *testing.T) {
	for name, open := range map[string]func(*testing.T) (store.Store, error){"embedded": openBolt, "redis": openRedis} {
		t.Run(name, func(t *testing.T) {
			s := start(t, open)

			// Every call, a page of one at a time.
			var sids []string
			cursor := ""
			for range 10 {
				var page callsPage
				s.getJSON(t, "/admin/api/calls?limit=1&cursor="+url.QueryEscape(cursor), &page)
				for _, c := range page.Calls {
					sids = append(sids, c.Sid)
				}
				if cursor = page.Next; cursor == "" {
					break
				}
			}
			want := []string{viewtest.SidDead, viewtest.SidAwaiting, viewtest.SidRejected, viewtest.SidGA4}
			if strings.Join(sids, ",") != strings.Join(want, ",") {
				t.Errorf("paged calls = %v, want %v (newest first)", sids, want)
			}

			filters := []struct{ query, want string }{
				{"state=rejected", viewtest.SidRejected},
				{"state=awaiting&destination=ads", viewtest.SidAwaiting},
				{"state=dead&rule=every-call", viewtest.SidDead},
				{"since=24h&sid=CAVIEW1", viewtest.SidGA4},
			}
			for _, f := range filters {
				var page callsPage
				s.getJSON(t, "/admin/api/calls?"+f.query, &page)
				if len(page.Calls) != 1 || page.Calls[0].Sid != f.want {
					t.Errorf("calls?%s = %+v, want %s", f.query, page.Calls, f.want)
				}
			}
			for _, bad := range []string{"state=lost", "since=yesterday", "limit=0", "cursor=zz"} {
				code, _, body := s.get(t, "/admin/api/calls?"+bad, "Bearer "+goodToken)
				if code == http.StatusOK {
					t.Errorf("calls?%s: %d %s, want an error", bad, code, body)
				}
			}

			var v callview.CallView
			s.getJSON(t, "/admin/api/calls/"+viewtest.SidRejected, &v)
			if len(v.Deliveries) != 1 || v.Deliveries[0].Outcome != "rejected by Google: EXPIRED_CLICK" ||
				v.Deliveries[0].RequestID != viewtest.RequestRejected || v.Call.From != "•••678" || len(v.Rules) != 2 ||
				v.RulesNote != callview.RulesNote || v.Arrived.IsZero() {
				t.Errorf("calls/%s = %+v", viewtest.SidRejected, v)
			}
			if code, _, _ := s.get(t, "/admin/api/calls/CANOPE", "Bearer "+goodToken); code != http.StatusNotFound {
				t.Errorf("unknown call: %d, want 404", code)
			}

			var dl deadLetters
			s.getJSON(t, "/admin/api/deadletters", &dl)
			if dl.Total != 2 || len(dl.DeadLetters) != 2 || len(dl.Groups) != 2 {
				t.Fatalf("deadletters = %+v, want 2 in 2 groups", dl)
			}
			kinds := map[string]string{}
			for _, g := range dl.Groups {
				kinds[g.Kind] = g.Code
			}
			if kinds[store.DeadProcessing] != "EXPIRED_CLICK" || kinds[store.DeadSend] != "event_too_old" {
				t.Errorf("groups = %+v, want a processing EXPIRED_CLICK and a send event_too_old", dl.Groups)
			}
			s.getJSON(t, "/admin/api/deadletters?kind=processing", &dl)
			if dl.Total != 1 || dl.DeadLetters[0].CallSid != viewtest.SidRejected || dl.DeadLetters[0].Reason != "rejected by Google: EXPIRED_CLICK" {
				t.Errorf("processing dead letters = %+v", dl)
			}

			var o overview
			s.getJSON(t, "/admin/api/overview", &o)
			if o.Store.Calls != 4 || o.Store.Dead != 2 || o.Polls.Pending != 1 || o.Polls.OldestSentAt.IsZero() {
				t.Errorf("overview = %+v, want 4 calls, 2 dead, the awaiting request's poll", o)
			}
			assertNoSecrets(t, "log", s.logs.String())
		})
	}
}

// assertNoSecrets fails when out shows any seeded personal data or token.
func assertNoSecrets(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range append([]string{goodToken, otherToken}, viewtest.Secrets...) {
		if strings.Contains(out, s) {
			t.Errorf("%s shows %q:\n%s", what, s, out)
		}
	}
}
