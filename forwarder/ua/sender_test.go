package ua

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

func newTestSender(endpoint string, client *http.Client) *Sender {
	return NewSender(Config{Endpoint: endpoint, HTTPClient: ownClient(client), Now: func() time.Time { return testNow }})
}

// ownClient returns client, or, when it is nil, a client with a transport
// of its own: httptest.Server.Close closes the idle connections of
// http.DefaultTransport, which would break the requests of parallel tests
// sharing it.
func ownClient(client *http.Client) *http.Client {
	if client != nil {
		return client
	}
	return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// assertNoLeak fails when err's text holds the client id.
func assertNoLeak(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testClientID) {
		t.Errorf("error text leaks the client id: %q", err.Error())
	}
}

func TestSendRequest(t *testing.T) {
	var got struct {
		method, path, contentType, rawQuery string
		body                                []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.rawQuery = r.Method, r.URL.Path, r.URL.RawQuery
		got.contentType = r.Header.Get("Content-Type")
		got.body, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "image/gif")
		_, _ = w.Write([]byte("GIF89a"))
	}))
	defer srv.Close()

	d := testDelivery(nil)
	if err := newTestSender(srv.URL+"/", nil).Send(context.Background(), d); err != nil {
		t.Fatalf("Send: want nil, got %v", err)
	}
	params, _ := BuildPayload(d, testNow)
	checks := []struct{ what, got, want string }{
		{"method", got.method, http.MethodPost},
		{"path", got.path, "/collect"},
		{"query", got.rawQuery, ""},
		{"content type", got.contentType, "application/x-www-form-urlencoded"},
		{"body", string(got.body), encode(params)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: want %q, got %q", c.what, c.want, c.got)
		}
	}
}

func TestSendClassifiesReplies(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		wantNil   bool
		wantKind  forwarder.Kind
		wantCode  string
		wantAfter time.Duration
		wantText  string // a part of the error text
	}{
		{name: "200 with a GIF", status: 200, body: "GIF89a", wantNil: true},
		{name: "204", status: 204, wantNil: true},
		{name: "429 with Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "120"},
			wantKind: forwarder.KindRetryAfter, wantCode: "http_429", wantAfter: 2 * time.Minute},
		{name: "429 with Retry-After date", status: 429,
			header:   map[string]string{"Retry-After": testNow.Add(90 * time.Second).Format(http.TimeFormat)},
			wantKind: forwarder.KindRetryAfter, wantCode: "http_429", wantAfter: 90 * time.Second},
		{name: "429 without Retry-After", status: 429, wantKind: forwarder.KindTransient, wantCode: "http_429"},
		{name: "408", status: 408, wantKind: forwarder.KindTransient, wantCode: "http_408"},
		{name: "500", status: 500, wantKind: forwarder.KindTransient, wantCode: "http_500"},
		{name: "503", status: 503, wantKind: forwarder.KindTransient, wantCode: "http_503"},
		{name: "400 with body excerpt", status: 400, body: "<html>\n  <p>Bad hit.</p>\n</html>",
			wantKind: forwarder.KindPermanent, wantCode: "http_400", wantText: "<html> <p>Bad hit.</p> </html>"},
		{name: "403", status: 403, wantKind: forwarder.KindPermanent, wantCode: "http_403", wantText: "(empty body)"},
		{name: "404", status: 404, body: "not found", wantKind: forwarder.KindPermanent, wantCode: "http_404", wantText: "not found"},
		{name: "413", status: 413, wantKind: forwarder.KindPermanent, wantCode: "http_413"},
		{name: "body echoing the hit is scrubbed", status: 400,
			body:     "bad hit v=1&cid=" + url.QueryEscape(testClientID) + " for " + testClientID,
			wantKind: forwarder.KindPermanent, wantCode: "http_400", wantText: "cid=<redacted> for <redacted>"},
		{name: "unfollowed 304", status: 304, wantKind: forwarder.KindTransient, wantCode: "http_304"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()

			err := newTestSender(srv.URL, nil).Send(context.Background(), testDelivery(nil))
			assertNoLeak(t, err)
			if tt.wantNil {
				if err != nil {
					t.Fatalf("Send: want nil, got %v", err)
				}
				return
			}
			var se *forwarder.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send: want a *forwarder.SendError, got %T: %v", err, err)
			}
			if se.Kind != tt.wantKind || se.Code != tt.wantCode || se.After != tt.wantAfter {
				t.Errorf("Send: want %s %q after %s, got %s %q after %s (%v)",
					tt.wantKind, tt.wantCode, tt.wantAfter, se.Kind, se.Code, se.After, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error text: want it to contain %q, got %q", tt.wantText, err.Error())
			}
		})
	}
}

func TestSendRefusesWithoutSending(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(d *forwarder.Delivery)
		wantCode string
	}{
		{"hit older than 4 h", func(d *forwarder.Delivery) { d.UA.Time = testNow.Add(-4*time.Hour - time.Second) }, "hit_too_old"},
		{"no UA hit", func(d *forwarder.Delivery) { d.UA = nil }, "no_ua_hit"},
		{"bad tracking id", func(d *forwarder.Delivery) { d.UA.TrackingID = "G-ABC123" }, "bad_tracking_id"},
		{"category too long", func(d *forwarder.Delivery) { d.UA.Category = strings.Repeat("c", 151) }, "value_too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
			defer srv.Close()

			err := newTestSender(srv.URL, nil).Send(context.Background(), testDelivery(tt.edit))
			assertNoLeak(t, err)
			se := forwarder.Classify(err)
			if err == nil || se.Kind != forwarder.KindPermanent || se.Code != tt.wantCode {
				t.Fatalf("Send: want permanent %q, got %v", tt.wantCode, err)
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("want no request sent, got %d", n)
			}
		})
	}
}

func TestSendTransportFailures(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name     string
		endpoint string
		client   *http.Client
		wantKind forwarder.Kind
		wantCode string
	}{
		{name: "connection refused", endpoint: closedURL, wantKind: forwarder.KindTransient, wantCode: "network"},
		{name: "unparseable endpoint", endpoint: "http://[::1", wantKind: forwarder.KindPermanent, wantCode: "bad_endpoint"},
		{name: "redirect refused", endpoint: "", wantKind: forwarder.KindTransient, wantCode: "network",
			client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
				return errors.New("redirects refused")
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endpoint := tt.endpoint
			if endpoint == "" {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, r.URL.String(), http.StatusTemporaryRedirect)
				}))
				defer srv.Close()
				endpoint = srv.URL
			}
			err := newTestSender(endpoint, tt.client).Send(context.Background(), testDelivery(nil))
			assertNoLeak(t, err)
			se := forwarder.Classify(err)
			if err == nil || se.Kind != tt.wantKind || se.Code != tt.wantCode {
				t.Errorf("Send: want %s %q, got %v", tt.wantKind, tt.wantCode, err)
			}
		})
	}
}

func TestSendContextCanceled(t *testing.T) {
	t.Run("canceled while waiting for the reply", func(t *testing.T) {
		arrived := make(chan struct{})
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer srv.Close()
		defer close(release)

		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			<-arrived
			cancel()
		}()
		checkCanceled(t, newTestSender(srv.URL, nil).Send(ctx, testDelivery(nil)))
	})
	t.Run("canceled before sending", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		checkCanceled(t, newTestSender(srv.URL, nil).Send(ctx, testDelivery(nil)))
		if n := hits.Load(); n != 0 {
			t.Errorf("want no request sent, got %d", n)
		}
	})
}

func checkCanceled(t *testing.T, err error) {
	t.Helper()
	se := forwarder.Classify(err)
	if err == nil || se.Kind != forwarder.KindTransient || se.Code != "canceled" {
		t.Fatalf("Send: want transient \"canceled\", got %v", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("want the error to wrap context.Canceled, got %v", err)
	}
}

func TestNewSenderDefaults(t *testing.T) {
	s := NewSender(Config{})
	if s.endpoint != DefaultEndpoint {
		t.Errorf("endpoint: want %q, got %q", DefaultEndpoint, s.endpoint)
	}
	if s.client == nil || s.client.Timeout != defaultTimeout {
		t.Errorf("client: want a client with a %s timeout, got %+v", defaultTimeout, s.client)
	}
	if s.now == nil {
		t.Error("now: want time.Now, got nil")
	}
}
