package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/webhook"
)

const model = "../../examples/webhooks/answered-with-gclid.form"

// TestTemplateDecodes checks that a generated body is a valid webhook that
// differs from the model only in the fields meant to vary.
func TestTemplateDecodes(t *testing.T) {
	raw, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := parseTemplate(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("parseTemplate(model) = %v", err)
	}
	start := time.Date(2026, 11, 26, 7, 30, 5, 0, time.UTC)
	var b bytes.Buffer
	tpl.write(&b, "CA0123456789abcdef0123456789abcdef", start, "1000000042.1795593245")

	want, err := webhook.Decode(mustParams(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	got, err := webhook.Decode(mustParams(t, b.Bytes()))
	if err != nil {
		t.Fatalf("Decode(generated body) = %v; body %s", err, b.Bytes())
	}
	for _, c := range []struct{ name, got, want string }{
		{"Call.Sid", got.Sid, "CA0123456789abcdef0123456789abcdef"},
		{"Call.StartDate", got.StartDate.Format(time.RFC3339), "2026-11-26T07:30:05Z"},
		{"Google.Analytics.ClientId", got.GAClientID, "1000000042.1795593245"},
		{"Call.Recording.Uri", got.RecordingURI, "https://recordings.example.net/CA0123456789abcdef0123456789abcdef.mp3"},
		{"Call.Disposition", string(got.Disposition), string(want.Disposition)},
		{"Call.To.Name", got.ToName, want.ToName},
		{"Google.AdWords.ClickId", got.GCLID, want.GCLID},
		{"Session.LandingUri", got.Session.LandingURI, want.Session.LandingURI},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func mustParams(t *testing.T, body []byte) map[string][]string {
	t.Helper()
	p, err := webhook.Params(http.MethodPost, "application/x-www-form-urlencoded", "", body)
	if err != nil {
		t.Fatalf("Params = %v", err)
	}
	return p
}

func TestParseTemplateRefusesIncompleteModel(t *testing.T) {
	for _, tc := range []struct{ name, form string }{
		{"no sid", "Action=Webhook&Call.StartDate=x&Google.Analytics.ClientId=1.2"},
		{"no start date", "Action=Webhook&Call.Sid=CA1&Google.Analytics.ClientId=1.2"},
		{"no client id", "Action=Webhook&Call.Sid=CA1&Call.StartDate=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseTemplate(tc.form); err == nil {
				t.Errorf("parseTemplate(%q) = nil error, want one", tc.form)
			}
		})
	}
}

// TestRunSendsUniqueCalls runs the loader against a server that records
// the Call.Sid of every request and answers the third one with a 503.
func TestRunSendsUniqueCalls(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p, err := webhook.Params(r.Method, r.Header.Get("Content-Type"), "", body)
		if err != nil {
			t.Errorf("Params = %v", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		seen[p["Call.Sid"][0]]++
		n++
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("Authorization = %q, want %q", r.Header.Get("Authorization"), "Bearer tok")
		}
		if n == 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	res, err := run(context.Background(), config{url: srv.URL, form: model, nonce: "t", token: "tok", n: 50, conns: 4, timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("run = %v", err)
	}
	if res.Requests != 50 || res.OK != 49 || res.Non2xx != 1 || res.Errors != 0 {
		t.Errorf("result = %+v, want 50 requests, 49 ok, 1 non-2xx, 0 errors", res)
	}
	if len(seen) != 50 {
		t.Errorf("%d distinct Call.Sids, want 50", len(seen))
	}
	for sid, k := range seen {
		if k != 1 {
			t.Errorf("Call.Sid %s sent %d times, want once", sid, k)
		}
	}
}

// TestCallSid: Sids are shaped like the platform's, differ between calls,
// workers and runs, and do not arrive in the order they are sent.
func TestCallSid(t *testing.T) {
	shape := regexp.MustCompile(`^CA[0-9a-f]{32}$`)
	seen := map[string]bool{}
	var prev string
	ordered := 0
	for _, nonce := range []string{"run1", "run2"} {
		for w := range 4 {
			for i := int64(1); i <= 500; i++ {
				sid := callSid(nonce, w, i)
				if !shape.MatchString(sid) {
					t.Fatalf("callSid(%q, %d, %d) = %q, not CA and 32 hex digits", nonce, w, i, sid)
				}
				if seen[sid] {
					t.Fatalf("callSid(%q, %d, %d) = %q, already sent", nonce, w, i, sid)
				}
				seen[sid] = true
				if sid > prev {
					ordered++
				}
				prev = sid
			}
		}
	}
	// In sending order, a random sequence rises about half of the time.
	if n := len(seen); ordered > n*3/4 || ordered < n/4 {
		t.Errorf("%d of %d Sids sort after the one sent before: the order is not mixed", ordered, n)
	}
}
