package callview

import (
	"strings"
	"testing"
)

func TestPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+61299999123", "•••123"},
		{"+61 2 9999 9123", "•••123"},
		{"0299999123", "•••123"},
		{"123", "•••"},
		{"", ""},
		{"anonymous", ""},
	}
	for _, tt := range tests {
		got := Phone(tt.in)
		if got != tt.want {
			t.Errorf("Phone(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if len(tt.in) > 6 && strings.Contains(got, tt.in[:len(tt.in)-3]) {
			t.Errorf("Phone(%q) = %q shows more than the last digits", tt.in, got)
		}
	}
}

func TestID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1234567890.1700000000", "1234…"},
		{"Cj0KCQiA1234567890abcdef", "Cj0K…"},
		{"short", "•••"},
		{"12345678", "•••"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ID(tt.in); got != tt.want {
			t.Errorf("ID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
