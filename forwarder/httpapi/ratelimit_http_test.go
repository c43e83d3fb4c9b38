package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/callforward/callforward/forwarder/httpapi"
)

// TestRateLimit uses a rate so low that no bucket refills during the test:
// what is allowed is exactly the burst.
func TestRateLimit(t *testing.T) {
	f := newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA, tokenB}, RateLimit: 0.001, RateBurst: 2})
	n := 0
	send := func(auth func(*http.Request), body []byte) reply {
		t.Helper()
		n++
		if body == nil {
			body = []byte(validForm(fmt.Sprintf("CArate%d", n)).Encode())
		}
		return f.post(t, "", formCT, body, auth)
	}
	steps := []struct {
		name string
		auth func(*http.Request)
		body []byte
		want int
	}{
		{"first of the burst", bearer(tokenA), nil, 200},
		{"wrong tokens are refused before the limit", bearer("nope"), nil, 401},
		{"second of the burst", bearer(tokenA), nil, 200},
		{"over the burst", bearer(tokenA), nil, 429},
		{"over the burst, by query token", func(r *http.Request) { r.URL.RawQuery = "token=" + tokenA }, nil, 429},
		{"refused before the body is read", bearer(tokenA), bytes.Repeat([]byte("a"), httpapi.DefaultMaxBody+1), 429},
		{"still refused for wrong tokens", bearer("nope"), nil, 401},
		{"the other token has its own budget", bearer(tokenB), nil, 200},
		{"by basic auth too", func(r *http.Request) { r.SetBasicAuth("fd", tokenB) }, nil, 200},
		{"until it is spent", bearer(tokenB), nil, 429},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got := send(s.auth, s.body)
			if got.status != s.want {
				t.Fatalf("status %d %v, want %d", got.status, got.body, s.want)
			}
			if s.want != 429 {
				return
			}
			if msg, _ := got.body["error"].(string); msg == "" {
				t.Errorf("429 without an error: %v", got.body)
			}
		})
	}
	t.Run("Retry-After", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+httpapi.WebhookPath, bytes.NewReader([]byte(validForm("CAretry").Encode())))
		req.Header.Set("Content-Type", formCT)
		bearer(tokenA)(req)
		res, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
		// One request at 0.001/s comes back after at most 1000s.
		if res.StatusCode != 429 || err != nil || secs < 1 || secs > 1000 {
			t.Errorf("status %d, Retry-After %q; want 429 and 1..1000 seconds", res.StatusCode, res.Header.Get("Retry-After"))
		}
	})
	st, err := f.store.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls != 4 || st.Rejected != 0 {
		t.Errorf("store holds %d calls and %d rejected requests, want 4 and 0", st.Calls, st.Rejected)
	}
}

func TestRateLimitWithoutAuth(t *testing.T) {
	f := newFixtureWith(t, httpapi.Config{NoAuth: true, RateLimit: 0.001})
	for i, want := range []int{200, 429, 429} {
		got := f.post(t, "", formCT, []byte(validForm(fmt.Sprintf("CAnoauth%d", i)).Encode()), nil)
		if got.status != want {
			t.Errorf("request %d: status %d %v, want %d (one shared bucket of one)", i, got.status, got.body, want)
		}
	}
}
