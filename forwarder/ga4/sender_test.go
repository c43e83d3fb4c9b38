package ga4

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

// testSecret holds characters that URL escaping changes, so both of its
// spellings are checked for in error texts.
const testSecret = "s3cr3t/Key+x=="

func newTestSender(endpoint string, client *http.Client) *Sender {
	return NewSender(Config{
		Endpoint:   endpoint,
		Secrets:    map[string]string{testMID: testSecret},
		HTTPClient: ownClient(client),
		Now:        func() time.Time { return testNow },
	})
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

// assertNoLeak fails when err's text holds the API secret or the client id.
func assertNoLeak(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for name, v := range map[string]string{
		"api secret": testSecret, "escaped api secret": url.QueryEscape(testSecret), "client id": testClientID,
	} {
		if strings.Contains(msg, v) {
			t.Errorf("error text leaks the %s: %q", name, msg)
		}
	}
}

func TestSendRequest(t *testing.T) {
	var got struct {
		method, path, contentType string
		query                     url.Values
		body                      []byte
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.query = r.Method, r.URL.Path, r.URL.Query()
		got.contentType = r.Header.Get("Content-Type")
		got.body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	d := testDelivery(nil)
	if err := newTestSender(srv.URL+"/", nil).Send(context.Background(), d); err != nil {
		t.Fatalf("Send: want nil, got %v", err)
	}
	want, _ := BuildPayload(d, testNow)
	checks := []struct{ what, got, want string }{
		{"method", got.method, http.MethodPost},
		{"path", got.path, "/mp/collect"},
		{"content type", got.contentType, "application/json"},
		{"measurement_id", got.query.Get("measurement_id"), testMID},
		{"api_secret", got.query.Get("api_secret"), testSecret},
		{"body", string(got.body), string(want)},
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
		{name: "204", status: 204, wantNil: true},
		{name: "200", status: 200, body: "{}", wantNil: true},
		{name: "429 with Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "120"},
			wantKind: forwarder.KindRetryAfter, wantCode: "http_429", wantAfter: 2 * time.Minute},
		{name: "429 with Retry-After date", status: 429,
			header:   map[string]string{"Retry-After": testNow.Add(90 * time.Second).Format(http.TimeFormat)},
			wantKind: forwarder.KindRetryAfter, wantCode: "http_429", wantAfter: 90 * time.Second},
		{name: "429 with Retry-After date in the past", status: 429,
			header:   map[string]string{"Retry-After": testNow.Add(-time.Hour).Format(http.TimeFormat)},
			wantKind: forwarder.KindRetryAfter, wantCode: "http_429", wantAfter: 0},
		{name: "429 without Retry-After", status: 429, wantKind: forwarder.KindTransient, wantCode: "http_429"},
		{name: "429 with unreadable Retry-After", status: 429, header: map[string]string{"Retry-After": "soon"},
			wantKind: forwarder.KindTransient, wantCode: "http_429"},
		{name: "408", status: 408, wantKind: forwarder.KindTransient, wantCode: "http_408"},
		{name: "500", status: 500, wantKind: forwarder.KindTransient, wantCode: "http_500"},
		{name: "502", status: 502, wantKind: forwarder.KindTransient, wantCode: "http_502"},
		{name: "503", status: 503, wantKind: forwarder.KindTransient, wantCode: "http_503"},
		{name: "504", status: 504, wantKind: forwarder.KindTransient, wantCode: "http_504"},
		{name: "400 with body excerpt", status: 400, body: "<html>\n  <p>Your client has issued a malformed request.</p>\n</html>",
			wantKind: forwarder.KindPermanent, wantCode: "http_400", wantText: "<html> <p>Your client has issued a malformed request.</p> </html>"},
		{name: "403", status: 403, wantKind: forwarder.KindPermanent, wantCode: "http_403", wantText: "(empty body)"},
		{name: "404", status: 404, body: "not found", wantKind: forwarder.KindPermanent, wantCode: "http_404", wantText: "not found"},
		{name: "413", status: 413, wantKind: forwarder.KindPermanent, wantCode: "http_413"},
		{name: "long body is cut", status: 400, body: strings.Repeat("x", 5000),
			wantKind: forwarder.KindPermanent, wantCode: "http_400", wantText: strings.Repeat("x", 200) + "…"},
		{name: "body echoing the request is scrubbed", status: 400,
			body:     "bad request to /mp/collect?api_secret=" + url.QueryEscape(testSecret) + " raw " + testSecret + " for " + testClientID,
			wantKind: forwarder.KindPermanent, wantCode: "http_400", wantText: "api_secret=<redacted> raw <redacted> for <redacted>"},
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
			if err == nil {
				t.Fatalf("Send: want %s %s, got nil", tt.wantKind, tt.wantCode)
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
		secrets  map[string]string
		edit     func(d *forwarder.Delivery)
		wantCode string
		wantText string
	}{
		{name: "no api secret for the measurement id", secrets: map[string]string{"G-OTHER": "x"},
			wantCode: "no_api_secret", wantText: testMID},
		{name: "empty api secret", secrets: map[string]string{testMID: ""},
			wantCode: "no_api_secret", wantText: testMID},
		{name: "no measurement id", secrets: map[string]string{testMID: testSecret},
			edit: func(d *forwarder.Delivery) { d.GA4.MeasurementID = "" }, wantCode: "no_measurement_id"},
		{name: "event older than 72 h", secrets: map[string]string{testMID: testSecret},
			edit: func(d *forwarder.Delivery) { d.GA4.Time = testNow.Add(-72*time.Hour - time.Second) }, wantCode: "event_too_old"},
		{name: "no GA4 event", secrets: map[string]string{testMID: testSecret},
			edit: func(d *forwarder.Delivery) { d.GA4 = nil }, wantCode: "no_ga4_event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			s := NewSender(Config{Endpoint: srv.URL, Secrets: tt.secrets, Now: func() time.Time { return testNow }})

			err := s.Send(context.Background(), testDelivery(tt.edit))
			assertNoLeak(t, err)
			se := forwarder.Classify(err)
			if err == nil || se.Kind != forwarder.KindPermanent || se.Code != tt.wantCode {
				t.Fatalf("Send: want permanent %q, got %v", tt.wantCode, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error text: want it to name %q, got %q", tt.wantText, err.Error())
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
			if err == nil {
				t.Fatalf("Send: want %s %q, got nil", tt.wantKind, tt.wantCode)
			}
			t.Logf("error text: %v", err)
			assertNoLeak(t, err)
			se := forwarder.Classify(err)
			if se.Kind != tt.wantKind || se.Code != tt.wantCode {
				t.Errorf("Send: want %s %q, got %s %q (%v)", tt.wantKind, tt.wantCode, se.Kind, se.Code, err)
			}
		})
	}
}

func TestSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	err := newTestSender(srv.URL, &http.Client{Timeout: 20 * time.Millisecond}).Send(context.Background(), testDelivery(nil))
	assertNoLeak(t, err)
	se := forwarder.Classify(err)
	if err == nil || se.Kind != forwarder.KindTransient || se.Code != "network" {
		t.Fatalf("Send: want transient \"network\" on client timeout, got %v", err)
	}
	var nerr interface{ Timeout() bool }
	if !errors.As(err, &nerr) || !nerr.Timeout() {
		t.Errorf("want the error to unwrap to a timeout, got %v", err)
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
		err := newTestSender(srv.URL, nil).Send(ctx, testDelivery(nil))
		checkCanceled(t, err)
	})
	t.Run("canceled before sending", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := newTestSender(srv.URL, nil).Send(ctx, testDelivery(nil))
		checkCanceled(t, err)
		if n := hits.Load(); n != 0 {
			t.Errorf("want no request sent, got %d", n)
		}
	})
}

func checkCanceled(t *testing.T, err error) {
	t.Helper()
	assertNoLeak(t, err)
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
