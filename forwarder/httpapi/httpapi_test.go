package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/logtest"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/mapping"
)

const (
	tokenA = "token-aaaaaaaaaaaaaaaa"
	tokenB = "token-bbbbbbbbbbbbbbbb" // the second token of a rotation
)

type fixture struct {
	h     *httpapi.Handler
	srv   *httptest.Server
	store *bolt.Store
	logs  *logtest.Buffer
}

// newFixture serves the real handler, with tokenA and tokenB, over the
// real bbolt store.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA, tokenB}})
}

// newFixtureWith is newFixture with cfg (its Logger is replaced by one
// writing to fixture.logs).
func newFixtureWith(t *testing.T, cfg httpapi.Config) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rules, err := mapping.Load("testdata/rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	in := ingest.New(st, func() ingest.Planner { return rules }, ingest.Options{Logger: log})
	cfg.Logger = log
	h := httpapi.New(cfg, in, st, st)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{h: h, srv: srv, store: st, logs: logs}
}

func validForm(sid string) url.Values {
	return url.Values{
		"Action": {"Webhook"}, "Event": {"Call.Complete"}, "Account.Sid": {"AC1"}, "Property.Sid": {"PR1"},
		"Call.Sid": {sid}, "Call.StartDate": {time.Now().UTC().Format("2006-01-02 15:04:05")},
		"Call.From": {"+61412345678"}, "Call.Duration": {"75"}, "Call.Disposition": {"ANSWERED"},
		"Google.Analytics.ClientId": {"1873452911.1764110422"},
	}
}

type reply struct {
	status int
	body   map[string]any
}

func (f *fixture) do(t *testing.T, req *http.Request) reply {
	t.Helper()
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("reply %d is not JSON: %q", res.StatusCode, raw)
	}
	return reply{res.StatusCode, body}
}

func (f *fixture) post(t *testing.T, query, contentType string, body []byte, auth func(*http.Request)) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+httpapi.WebhookPath+query, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != nil {
		auth(req)
	}
	return f.do(t, req)
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

const formCT = "application/x-www-form-urlencoded"

func TestAuth(t *testing.T) {
	f := newFixture(t)
	body := func(sid string) []byte { return []byte(validForm(sid).Encode()) }
	tests := []struct {
		name  string
		query string
		auth  func(*http.Request)
		want  int
	}{
		{"no credential", "", nil, http.StatusUnauthorized},
		{"wrong bearer", "", bearer("token-wrong-wrong-wrong"), http.StatusUnauthorized},
		{"bearer", "", bearer(tokenA), http.StatusOK},
		{"bearer of the rotated token", "", bearer(tokenB), http.StatusOK},
		{"lower-case bearer scheme", "", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+tokenA) }, http.StatusOK},
		{"query token", "?token=" + tokenA, nil, http.StatusOK},
		{"wrong query token", "?token=nope", nil, http.StatusUnauthorized},
		{"basic password", "", func(r *http.Request) { r.SetBasicAuth("fonedynamics", tokenB) }, http.StatusOK},
		{"basic wrong password", "", func(r *http.Request) { r.SetBasicAuth("fonedynamics", "x") }, http.StatusUnauthorized},
		{"token as basic user name is not a password", "", func(r *http.Request) { r.SetBasicAuth(tokenA, "") }, http.StatusUnauthorized},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.post(t, tt.query, formCT, body("CAauth"+string(rune('a'+i))), tt.auth)
			if got.status != tt.want {
				t.Fatalf("status %d %v, want %d", got.status, got.body, tt.want)
			}
		})
	}
	st, _ := f.store.Stats(context.Background())
	if st.Rejected != 0 {
		t.Errorf("%d unauthorized requests kept; only authenticated bad requests are kept", st.Rejected)
	}
	if strings.Contains(f.logs.String(), tokenA) || strings.Contains(f.logs.String(), tokenB) {
		t.Error("a token appears in the logs")
	}
}

func TestReplies(t *testing.T) {
	f := newFixture(t)
	auth := bearer(tokenA)
	initiate := validForm("CAinit")
	initiate.Set("Event", "Call.Initiate")
	initiate.Del("Call.Duration")
	initiate.Del("Call.Disposition")
	noClient := validForm("CAnoclient")
	noClient.Del("Google.Analytics.ClientId")
	jsonBody, _ := json.Marshal(map[string]any{
		"Action": "Webhook", "Event": "Call.Complete", "Account.Sid": "AC1", "Property.Sid": "PR1",
		"Call.Sid": "CAjson", "Call.StartDate": time.Now().UTC().Format("2006-01-02 15:04:05"),
		"Call.Duration": 30, "Call.Disposition": "BUSY", "Google.Analytics.ClientId": "GA1.2.1.2",
	})
	tests := []struct {
		name        string
		contentType string
		body        []byte
		wantStatus  int
		want        map[string]any
	}{
		{"answered call", formCT, []byte(validForm("CA1").Encode()), 200, map[string]any{"status": "accepted", "deliveries": 2.0}},
		{"same call again", formCT, []byte(validForm("CA1").Encode()), 200, map[string]any{"status": "duplicate"}},
		{"json body", "application/json", jsonBody, 200, map[string]any{"status": "accepted", "deliveries": 1.0}},
		{"initiate is ignored", formCT, []byte(initiate.Encode()), 200, map[string]any{"status": "ignored", "reason": "no rule matched"}},
		{"no client id says why", formCT, []byte(noClient.Encode()), 200, map[string]any{"status": "ignored"}},
		{"missing sid", formCT, []byte(strings.Replace(validForm("x").Encode(), "Call.Sid=x", "Call.Sid=", 1)), 400, map[string]any{"field": "Call.Sid"}},
		{"bad duration", formCT, []byte(strings.Replace(validForm("CAd").Encode(), "Call.Duration=75", "Call.Duration=abc", 1)), 400, map[string]any{"field": "Call.Duration"}},
		{"bad date", formCT, []byte(strings.Replace(validForm("CAdate").Encode(), "Call.StartDate=", "Call.StartDate=yesterday", 1)), 400, map[string]any{"field": "Call.StartDate"}},
		{"action not webhook", formCT, []byte(strings.Replace(validForm("CAa").Encode(), "Action=Webhook", "Action=Ping", 1)), 400, map[string]any{"field": "Action"}},
		{"unsupported content type", "text/plain", []byte("hello"), 415, map[string]any{"field": "Content-Type"}},
		{"json array", "application/json", []byte(`[1,2]`), 400, map[string]any{"field": "body"}},
		{"oversized body", formCT, bytes.Repeat([]byte("a"), httpapi.DefaultMaxBody+1), 413, map[string]any{"field": "body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := f.post(t, "", tt.contentType, tt.body, auth)
			if got.status != tt.wantStatus {
				t.Fatalf("status %d %v, want %d", got.status, got.body, tt.wantStatus)
			}
			for k, v := range tt.want {
				if got.body[k] != v {
					t.Errorf("reply[%q] = %v, want %v (reply %v)", k, got.body[k], v, got.body)
				}
			}
			if tt.wantStatus >= 400 {
				if msg, _ := got.body["error"].(string); !strings.Contains(msg, got.body["field"].(string)) && tt.wantStatus != 413 {
					t.Errorf("error %q does not name the field %v", msg, got.body["field"])
				}
			}
		})
	}
}

func TestIgnoredReasonNamesTheMissingClientID(t *testing.T) {
	f := newFixture(t)
	form := validForm("CAnoclient")
	form.Del("Google.Analytics.ClientId")
	got := f.post(t, "", formCT, []byte(form.Encode()), bearer(tokenA))
	if reason, _ := got.body["reason"].(string); !strings.Contains(reason, "Google.Analytics.ClientId") {
		t.Errorf("reason %q does not say the client id is missing", reason)
	}
}

func TestRejectedRequestsAreKept(t *testing.T) {
	f := newFixture(t)
	bad := strings.Replace(validForm("CAbad").Encode(), "Call.Duration=75", "Call.Duration=seventy", 1)
	got := f.post(t, "?token="+tokenA+"&x=1", formCT, []byte(bad), nil)
	if got.status != 400 {
		t.Fatalf("status %d, want 400", got.status)
	}
	rej, err := f.store.RejectedRequests(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rej) != 1 {
		t.Fatalf("%d rejected requests kept, want 1", len(rej))
	}
	r := rej[0]
	if r.Status != 400 || r.Field != "Call.Duration" || string(r.Body) != bad || r.Method != "POST" || r.ContentType != formCT {
		t.Errorf("kept %+v, want the raw request with status, field and body", r)
	}
	if strings.Contains(r.Query, tokenA) || r.Query != "x=1" {
		t.Errorf("kept query %q, want the token stripped and the rest kept (x=1)", r.Query)
	}
}

func TestGetAndMultipart(t *testing.T) {
	f := newFixture(t)
	// GET with an unencoded '+' in the caller id, as some senders build it.
	q := strings.Replace(validForm("CAget").Encode(), "%2B61412345678", "+61412345678", 1)
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+httpapi.WebhookPath+"?"+q, nil)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	if got := f.do(t, req); got.status != 200 || got.body["status"] != "accepted" {
		t.Fatalf("GET: %d %v", got.status, got.body)
	}
	call, err := f.store.Call(context.Background(), "CAget")
	if err != nil {
		t.Fatal(err)
	}
	if call.From != "+61412345678" {
		t.Errorf("caller id %q, want the repaired +61412345678", call.From)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range validForm("CAmulti") {
		mw.WriteField(k, v[0])
	}
	mw.Close()
	if got := f.post(t, "", mw.FormDataContentType(), buf.Bytes(), bearer(tokenA)); got.status != 200 || got.body["status"] != "accepted" {
		t.Fatalf("multipart: %d %v", got.status, got.body)
	}
}

func TestMethodsAndProbes(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodPut, f.srv.URL+httpapi.WebhookPath, nil)
	if got := f.do(t, req); got.status != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d, want 405", got.status)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/nope": 404} {
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		if got := f.do(t, req); got.status != want {
			t.Errorf("GET %s: %d, want %d", path, got.status, want)
		}
	}
	f.store.Close()
	req, _ = http.NewRequest(http.MethodGet, f.srv.URL+"/readyz", nil)
	if got := f.do(t, req); got.status != http.StatusServiceUnavailable {
		t.Errorf("readyz with a closed store: %d, want 503", got.status)
	}
	// Nothing can be stored: the sender must be told to retry.
	if got := f.post(t, "", formCT, []byte(validForm("CAclosed").Encode()), bearer(tokenA)); got.status != http.StatusServiceUnavailable {
		t.Errorf("webhook with a closed store: %d %v, want 503", got.status, got.body)
	}
}

// panicIngester proves a panic becomes a 500, not a crash.
type panicIngester struct{}

func (panicIngester) Ingest(context.Context, *forwarder.Call) (ingest.Result, error) {
	panic("boom")
}

type nopStore struct{}

func (nopStore) Reject(context.Context, store.Rejected) error { return errors.New("unused") }
func (nopStore) Ping(context.Context) error                   { return nil }

func TestPanicIsA500(t *testing.T) {
	h := httpapi.New(httpapi.Config{NoAuth: true}, panicIngester{}, nopStore{}, nopStore{})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, httpapi.WebhookPath, strings.NewReader(validForm("CApanic").Encode()))
	req.Header.Set("Content-Type", formCT)
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", rec.Code)
	}
}

func TestReadyzDegraded(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := httpapi.New(httpapi.Config{NoAuth: true, Checks: []httpapi.Check{
		{Name: "google_oauth", Check: func(context.Context) error { return errors.New("refresh token revoked") }},
		{Name: "fine", Check: func(context.Context) error { return nil }},
	}}, panicIngester{}, st, st)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var body struct {
		Status   string            `json:"status"`
		Problems map[string]string `json:"problems"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 || body.Status != "degraded" || body.Problems["google_oauth"] != "refresh token revoked" || len(body.Problems) != 1 {
		t.Errorf("readyz = %d %+v, want 200 degraded naming google_oauth only", rec.Code, body)
	}
}
