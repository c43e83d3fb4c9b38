package spool

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder"
)

func TestFileName(t *testing.T) {
	tests := []struct {
		sid   string
		event forwarder.Event
		want  string // "" when the call is refused
	}{
		{"CA7d6c5b4a39281706f5e4d3c2b1a09f8e", forwarder.EventComplete, "c-CA7d6c5b4a39281706f5e4d3c2b1a09f8e@Call.Complete.json"},
		{"CA-work_1", forwarder.EventComplete, "c-CA-work_1@Call.Complete.json"},
		{"a:b:c", forwarder.EventComplete, "c-a+b+c@Call.Complete.json"},
		{".", forwarder.EventComplete, "c-.@Call.Complete.json"},
		{"..", forwarder.EventComplete, "c-..@Call.Complete.json"},
		{".hidden", forwarder.EventComplete, "c-.hidden@Call.Complete.json"},
		{strings.Repeat("x", maxSidLen), forwarder.EventComplete, "c-" + strings.Repeat("x", maxSidLen) + "@Call.Complete.json"},
		{"", forwarder.EventComplete, ""},
		{strings.Repeat("x", maxSidLen+1), forwarder.EventComplete, ""},
		{"../etc/passwd", forwarder.EventComplete, ""},
		{"a/b", forwarder.EventComplete, ""},
		{`a\b`, forwarder.EventComplete, ""},
		{"a+b", forwarder.EventComplete, ""}, // '+' stands for ':' in names
		{"a b", forwarder.EventComplete, ""},
		{"a\x00b", forwarder.EventComplete, ""},
		{"a%2Fb", forwarder.EventComplete, ""},
		{"caf\u00e9", forwarder.EventComplete, ""},
		{"CA1", forwarder.EventInitiate, "c-CA1@Call.Initiate.json"},
		{"CA1", "", "c-CA1@.json"},
		{"CA1", "Call/Complete", ""},
		{"CA1", "Call@Complete", ""},
		{"CA1", "../x", ""},
		{"CA1", forwarder.Event(strings.Repeat("x", 65)), ""},
	}
	for _, tc := range tests {
		t.Run(tc.sid, func(t *testing.T) {
			got, err := fileName(tc.sid, tc.event)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("fileName(%q, %q) = %q, want an error", tc.sid, tc.event, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("fileName(%q, %q) = %q, %v; want %q, nil", tc.sid, tc.event, got, err, tc.want)
			}
			if filepath.Base(got) != got || strings.HasPrefix(got, ".") || !isCallFile(got) {
				t.Errorf("fileName(%q, %q) = %q: not a plain call file name", tc.sid, tc.event, got)
			}
		})
	}
}

func TestIsCallFile(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"c-CA1.json", true},
		{"c-.json", false},
		{".tmp-123", false},
		{".lock", false},
		{"c-CA1.json.bak", false},
		{"notes.json", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := isCallFile(tc.name); got != tc.want {
				t.Errorf("isCallFile(%q) = %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}
