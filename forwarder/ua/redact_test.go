package ua

import "testing"

func TestRedactor(t *testing.T) {
	tests := []struct {
		name     string
		clientID string
		in, want string
	}{
		{"plain client id", "111.222", "cid 111.222 unknown", "cid <redacted> unknown"},
		{"escaped client id", "a b/c", "echo cid=a+b%2Fc and a b/c", "echo cid=<redacted> and <redacted>"},
		{"clean text kept", "111.222", "bad request", "bad request"},
		{"no client id", "", "bad request", "bad request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (redactor{clientID: tt.clientID}).string(tt.in); got != tt.want {
				t.Errorf("string(%q): want %q, got %q", tt.in, tt.want, got)
			}
		})
	}
}
