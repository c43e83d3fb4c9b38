package ga4

import (
	"context"
	"errors"
	"net/url"
	"testing"
)

func TestRedactor(t *testing.T) {
	r := redactor{secret: "a/b+c", clientID: "111.222"}
	wrapped := &url.Error{Op: "Post", URL: "https://x.test/mp/collect?api_secret=a%2Fb%2Bc&measurement_id=G-1", Err: context.DeadlineExceeded}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"url error loses its query", wrapped, `Post "https://x.test/mp/collect": context deadline exceeded`},
		{"url error with a fragment", &url.Error{Op: "parse", URL: "http://[::1/x#frag", Err: errors.New("bad")}, `parse "http://[::1/x": bad`},
		{"secret elsewhere is scrubbed", errors.New("echo a/b+c and a%2Fb%2Bc"), "echo <redacted> and <redacted>"},
		{"client id is scrubbed", errors.New("client 111.222 unknown"), "client <redacted> unknown"},
		{"clean error kept as is", errors.New("connection reset"), "connection reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.error(tt.err)
			if got.Error() != tt.want {
				t.Errorf("error text: want %q, got %q", tt.want, got.Error())
			}
		})
	}
	if err := r.error(wrapped); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("redacted error must still unwrap to its cause, got %v", err)
	}
	if err := r.error(errors.Join(context.Canceled, errors.New("a/b+c"))); !errors.Is(err, context.Canceled) {
		t.Errorf("scrubbed error must still unwrap to its cause, got %v", err)
	}
}
