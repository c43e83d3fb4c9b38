package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/httpapi"
)

// slowPost starts a webhook whose body arrives only when the returned
// function is called (as a slow client would send it); the reply comes on
// the channel.
func (f *fixture) slowPost(t *testing.T, sid string) (finish func(), replies <-chan reply) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+httpapi.WebhookPath, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", formCT)
	bearer(tokenA)(req)
	ch := make(chan reply, 1)
	go func() { ch <- f.doAsync(req) }()
	body := validForm(sid).Encode()
	if _, err := pw.Write([]byte(body[:10])); err != nil {
		t.Fatal(err)
	}
	return func() {
		_, _ = pw.Write([]byte(body[10:]))
		_ = pw.Close()
	}, ch
}

// doAsync is do for a goroutine: a transport failure is status 0.
func (f *fixture) doAsync(req *http.Request) reply {
	res, err := f.srv.Client().Do(req)
	if err != nil {
		return reply{}
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return reply{status: res.StatusCode, body: map[string]any{"retry-after": res.Header.Get("Retry-After")}}
}

func TestInFlightTurns(t *testing.T) {
	tests := []struct {
		name string
		// release is when the first, slow webhook finishes its body,
		// relative to the second one's start; the second waits up to
		// InFlightWait.
		release    time.Duration
		wait       time.Duration
		wantStatus int
	}{
		{name: "a turn comes within the wait", release: 100 * time.Millisecond, wait: 5 * time.Second, wantStatus: http.StatusOK},
		{name: "no turn within the wait", release: 0, wait: 200 * time.Millisecond, wantStatus: http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA}, MaxInFlight: 1, InFlightWait: tt.wait})
			finish, first := f.slowPost(t, "CAslow")
			// The slow webhook holds the only turn once its body is being read.
			time.Sleep(50 * time.Millisecond)

			second := make(chan reply, 1)
			start := time.Now()
			go func() {
				req, _ := http.NewRequest(http.MethodPost, f.srv.URL+httpapi.WebhookPath, strings.NewReader(validForm("CAsecond").Encode()))
				req.Header.Set("Content-Type", formCT)
				bearer(tokenA)(req)
				second <- f.doAsync(req)
			}()
			if tt.release > 0 {
				time.Sleep(tt.release)
				finish()
			}
			got := <-second
			took := time.Since(start)
			if tt.release == 0 {
				finish()
			}
			if r := <-first; r.status != http.StatusOK {
				t.Errorf("slow webhook: status %d, want 200", r.status)
			}
			if got.status != tt.wantStatus {
				t.Fatalf("second webhook: status %d, want %d", got.status, tt.wantStatus)
			}
			switch tt.wantStatus {
			case http.StatusOK:
				if took < tt.release {
					t.Errorf("second webhook answered after %v, before the slow one gave its turn back (%v)", took, tt.release)
				}
				if call, err := f.store.Call(t.Context(), "CAsecond"); err != nil || call == nil || call.Sid != "CAsecond" {
					t.Errorf("second call not stored: %v, %v", call, err)
				}
			case http.StatusServiceUnavailable:
				if took < tt.wait {
					t.Errorf("refused after %v, before the wait of %v", took, tt.wait)
				}
				if ra := got.body["retry-after"]; ra != "1" {
					t.Errorf("Retry-After %q, want 1", ra)
				}
				if !strings.Contains(f.logs.String(), "too many in progress") {
					t.Errorf("no log line for the refusal: %s", f.logs.String())
				}
			}
			// The turn is given back: the next webhook gets in at once.
			if r := f.post(t, "", formCT, []byte(validForm("CAthird").Encode()), bearer(tokenA)); r.status != http.StatusOK {
				t.Errorf("third webhook: status %d, want 200", r.status)
			}
		})
	}
}

// TestInFlightCount: InFlight counts the webhooks holding a turn, and
// goes back to zero once they are answered.
func TestInFlightCount(t *testing.T) {
	f := newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA}})
	if n := f.h.InFlight(); n != 0 {
		t.Fatalf("InFlight before any webhook = %d, want 0", n)
	}
	var finishes []func()
	var replies []<-chan reply
	for _, sid := range []string{"CAslow1", "CAslow2", "CAslow3"} {
		finish, ch := f.slowPost(t, sid)
		finishes, replies = append(finishes, finish), append(replies, ch)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.h.InFlight() != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("InFlight = %d with three webhooks reading their bodies, want 3", f.h.InFlight())
		}
		time.Sleep(time.Millisecond)
	}
	for i, finish := range finishes {
		finish()
		if r := <-replies[i]; r.status != http.StatusOK {
			t.Errorf("slow webhook %d: status %d, want 200", i, r.status)
		}
	}
	if n := f.h.InFlight(); n != 0 {
		t.Errorf("InFlight after every webhook was answered = %d, want 0", n)
	}
}

func TestInFlightConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  httpapi.Config
		want string
	}{
		{httpapi.Config{MaxInFlight: -1}, "max in flight"},
		{httpapi.Config{InFlightWait: -time.Second}, "in-flight wait"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want an error with %q", tt.cfg, err, tt.want)
		}
	}
	if err := (httpapi.Config{MaxInFlight: 10, InFlightWait: time.Second}).Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}
