package ua

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

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
			got, ok := retryAfter(tt.header, testNow)
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
			if got := excerpt(strings.NewReader(tt.body)); got != tt.want {
				t.Errorf("excerpt: want %q, got %q", tt.want, got)
			}
		})
	}
}
