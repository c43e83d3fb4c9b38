package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/httpapi"
	"github.com/callforward/callforward/forwarder/ingest"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/mapping"
)

// documentedStatus lists every status the webhook endpoint may answer.
var documentedStatus = map[int]bool{200: true, 400: true, 401: true, 403: true, 405: true, 413: true, 415: true, 429: true, 503: true}

// FuzzHandler sends arbitrary methods, content types, queries and bodies
// to the real handler over a real store, and checks that the status is a
// documented one, that every refusal says why in JSON, and (through the
// panic recovery turning a panic into an undocumented 500) that nothing
// panics.
func FuzzHandler(f *testing.F) {
	st, err := bolt.Open(filepath.Join(f.TempDir(), "db"), store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	rules, err := mapping.Load("testdata/rules.yaml")
	if err != nil {
		f.Fatal(err)
	}
	in := ingest.New(st, func() ingest.Planner { return rules }, ingest.Options{})
	h := httpapi.New(httpapi.Config{NoAuth: true}, in, st, st)

	// The decoder's sample webhooks, as the platform sends them.
	samples, err := filepath.Glob("../webhook/testdata/*.*")
	if err != nil || len(samples) == 0 {
		f.Fatalf("no sample webhooks: %v", err)
	}
	for _, p := range samples {
		if strings.Contains(p, ".golden.") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		switch filepath.Ext(p) {
		case ".form":
			f.Add("POST", formCT, "token=t", b)
		case ".query":
			f.Add("GET", "", strings.TrimSpace(string(b)), []byte(nil))
		case ".json":
			f.Add("POST", "application/json; charset=utf-8", "", b)
		}
	}
	f.Add("POST", formCT, "", []byte(validForm("CAfuzz").Encode()))
	f.Add("GET", "", validForm("CAfuzz2").Encode(), []byte(nil))
	f.Add("POST", "application/json", "", jsonBody("CAfuzz3", `"Call.Duration":1e400`))
	f.Add("POST", "multipart/form-data; boundary=B", "", []byte("--B\r\nContent-Disposition: form-data; name=\"Call.Sid\"; filename=\"x\"\r\n\r\nCA1\r\n--B--\r\n"))
	f.Add("PUT", "text/plain", "a=%zz", []byte("\x00\xff"))
	f.Add("HEAD", formCT+"; charset=latin1", "a;b", []byte("{}"))
	f.Add("POST", "application/json", "", nested(40))

	f.Fuzz(func(t *testing.T, method, contentType, rawQuery string, body []byte) {
		req := &http.Request{
			Method:        method,
			URL:           &url.URL{Path: httpapi.WebhookPath, RawQuery: rawQuery},
			Proto:         "HTTP/1.1",
			ProtoMajor:    1,
			ProtoMinor:    1,
			Header:        http.Header{},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
			Host:          "callforward.test",
			RemoteAddr:    "192.0.2.1:1234",
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req = req.WithContext(context.Background())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if !documentedStatus[rec.Code] {
			t.Fatalf("%q %q: status %d %s is not a documented one", method, contentType, rec.Code, rec.Body)
		}
		var reply map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
			t.Fatalf("status %d: reply is not a JSON object: %q", rec.Code, rec.Body)
		}
		if rec.Code >= 400 && rec.Code < 500 {
			if msg, _ := reply["error"].(string); msg == "" {
				t.Fatalf("status %d without an error: %s", rec.Code, rec.Body)
			}
		}
		if rec.Code == 200 {
			if s, _ := reply["status"].(string); s != "accepted" && s != "duplicate" && s != "ignored" {
				t.Fatalf("200 with status %q", s)
			}
		}
	})
}
