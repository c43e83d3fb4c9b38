package httpreply

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

var testNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		header string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 1 ", time.Second, true},
		{"3600", time.Hour, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{testNow.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{testNow.Add(-30 * time.Second).Format(http.TimeFormat), 0, true},
		{"Tuesday, 03-Nov-26 10:00:45 GMT", 45 * time.Second, true},
		{"later", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			got, ok := RetryAfter(tt.header, testNow)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("retryAfter(%q) = %s, %t; want %s, %t", tt.header, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", "(empty body)"},
		{"blank", " \n\t ", "(empty body)"},
		{"one line", "bad request", "bad request"},
		{"whitespace collapsed", "<p>\n  bad\trequest\n</p>", "<p> bad request </p>"},
		{"invalid UTF-8 replaced", "bad \xff byte", "bad ? byte"},
		{"cut to the limit", strings.Repeat("é", 300), strings.Repeat("é", excerptRunes) + "…"},
		{"only the first KiB is read", strings.Repeat(" ", excerptBytes) + "tail", "(empty body)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Excerpt(strings.NewReader(tt.body)); got != tt.want {
				t.Errorf("excerpt: want %q, got %q", tt.want, got)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		status int
		header string
		body   string
		want   forwarder.Kind
		after  time.Duration
	}{
		{429, "7", "", forwarder.KindRetryAfter, 7 * time.Second},
		{429, "", "", forwarder.KindTransient, 0},
		{408, "", "", forwarder.KindTransient, 0},
		{500, "", "", forwarder.KindTransient, 0},
		{503, "", "", forwarder.KindTransient, 0},
		{400, "", "bad secret s3cr3t", forwarder.KindPermanent, 0},
		{404, "", "", forwarder.KindPermanent, 0},
		{302, "", "", forwarder.KindTransient, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			resp := &http.Response{StatusCode: tt.status, Status: http.StatusText(tt.status), Header: http.Header{}, Body: io.NopCloser(strings.NewReader(tt.body))}
			if tt.header != "" {
				resp.Header.Set("Retry-After", tt.header)
			}
			err := Classify("send", resp, func(s string) string { return strings.ReplaceAll(s, "s3cr3t", "<redacted>") }, testNow)
			se := forwarder.Classify(err)
			if se.Kind != tt.want || se.After != tt.after || se.Code != fmt.Sprintf("http_%d", tt.status) {
				t.Errorf("Classify = %v (kind %v, after %v, code %s), want kind %v after %v", err, se.Kind, se.After, se.Code, tt.want, tt.after)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error %q quotes what scrub removes", err)
			}
		})
	}
}

func TestDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			io.WriteString(w, "fine")
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx := context.Background()
	get := func(url string) *http.Request {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		return req
	}
	var body string
	onOK := func(r io.Reader) error { b, _ := io.ReadAll(r); body = string(b); return nil }
	if err := Do(ctx, srv.Client(), get(srv.URL+"/ok"), "op", nil, nil, testNow, onOK); err != nil || body != "fine" {
		t.Errorf("2xx: err %v, body %q; want nil and the body handed to onOK", err, body)
	}
	if se := forwarder.Classify(Do(ctx, srv.Client(), get(srv.URL+"/down"), "op", nil, nil, testNow, onOK)); se.Code != "http_503" {
		t.Errorf("503: code %q, want http_503", se.Code)
	}
	scrubErr := func(err error) error { return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "127.0.0.1", "<host>")) }
	err := Do(ctx, http.DefaultClient, get("http://127.0.0.1:1/x"), "op", nil, scrubErr, testNow, onOK)
	if se := forwarder.Classify(err); se.Code != "network" || strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("refused connection: %v (code %q), want a scrubbed network error", err, se.Code)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, srv.URL+"/ok", nil)
	if se := forwarder.Classify(Do(cctx, srv.Client(), req, "op", nil, nil, testNow, onOK)); se.Code != "canceled" {
		t.Errorf("cancelled: code %q, want canceled", se.Code)
	}
}
