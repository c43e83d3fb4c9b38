package redis_test

import (
	"net"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/store/redis"
)

func TestOpenErrors(t *testing.T) {
	const password = "s3cret-Pa55"
	// A port nobody listens on: taken, then given back.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	opts, _ := testOptions()
	tests := []struct {
		name string
		url  string
		o    redis.Options
		want string // in the error
	}{
		{"unreachable", "redis://user:" + password + "@" + closed + "/0", redis.Options{}, closed},
		{"bad port", "redis://user:" + password + "@localhost:port/0", redis.Options{}, "bad URL"},
		{"bad scheme", "http://user:" + password + "@localhost/0", redis.Options{}, "bad URL"},
		{"brace in prefix", "redis://" + closed, redis.Options{Prefix: "a}b"}, "brace"},
		{"addrs without a mode", "redis://" + closed, redis.Options{Addrs: []string{"other:6379"}}, "Sentinel or Cluster"},
		{"both modes", "redis://" + closed, redis.Options{Cluster: true, MasterName: "m"}, "both"},
		{"cluster database", "redis://" + closed + "/2", redis.Options{Cluster: true}, "database"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redis.Open(t.Context(), tc.url, opts, tc.o)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%s) = nil, want an error", tc.name)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Errorf("Open error %q, want it to contain %q", msg, tc.want)
			}
			if strings.Contains(msg, password) {
				t.Errorf("Open error %q shows the password", msg)
			}
		})
	}
}
