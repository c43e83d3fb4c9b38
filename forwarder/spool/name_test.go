package spool

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestFileName(t *testing.T) {
	tests := []struct {
		sid  string
		want string // "" when the Sid is refused
	}{
		{"CA7d6c5b4a39281706f5e4d3c2b1a09f8e", "c-CA7d6c5b4a39281706f5e4d3c2b1a09f8e.json"},
		{"CA-work_1", "c-CA-work_1.json"},
		{"a:b:c", "c-a+b+c.json"},
		{".", "c-..json"},
		{"..", "c-...json"},
		{".hidden", "c-.hidden.json"},
		{strings.Repeat("x", maxSidLen), "c-" + strings.Repeat("x", maxSidLen) + ".json"},
		{"", ""},
		{strings.Repeat("x", maxSidLen+1), ""},
		{"../etc/passwd", ""},
		{"a/b", ""},
		{`a\b`, ""},
		{"a+b", ""}, // '+' stands for ':' in names
		{"a b", ""},
		{"a\x00b", ""},
		{"a%2Fb", ""},
		{"caf\u00e9", ""},
	}
	for _, tc := range tests {
		t.Run(tc.sid, func(t *testing.T) {
			got, err := fileName(tc.sid)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("fileName(%q) = %q, want an error", tc.sid, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("fileName(%q) = %q, %v; want %q, nil", tc.sid, got, err, tc.want)
			}
			if filepath.Base(got) != got || strings.HasPrefix(got, ".") || !isCallFile(got) {
				t.Errorf("fileName(%q) = %q: not a plain call file name", tc.sid, got)
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
