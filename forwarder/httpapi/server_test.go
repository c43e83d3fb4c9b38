package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/httpapi"
)

func TestNewServerDefaults(t *testing.T) {
	d := httpapi.DefaultTimeouts()
	want := httpapi.Timeouts{ReadHeader: 5 * time.Second, Read: 15 * time.Second, Write: 15 * time.Second, Idle: 2 * time.Minute, MaxHeaderBytes: 32 << 10}
	if d != want {
		t.Fatalf("DefaultTimeouts() = %+v, want %+v", d, want)
	}
	s := httpapi.NewServer(http.NotFoundHandler(), httpapi.Timeouts{Write: time.Minute})
	got := httpapi.Timeouts{ReadHeader: s.ReadHeaderTimeout, Read: s.ReadTimeout, Write: s.WriteTimeout, Idle: s.IdleTimeout, MaxHeaderBytes: s.MaxHeaderBytes}
	want.Write = time.Minute
	if got != want || s.Handler == nil {
		t.Errorf("NewServer with Write set: %+v, want %+v (zero fields defaulted)", got, want)
	}
}

// serve runs NewServer(h, to) on a loopback port and returns its address.
func serve(t *testing.T, h http.Handler, to httpapi.Timeouts) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httpapi.NewServer(h, to)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// dribble writes head at once, then rest one byte every interval until it
// is all sent or a write fails; it counts the bytes of rest sent.
func dribble(conn net.Conn, head, rest string, interval time.Duration, sent *atomic.Int64) {
	if _, err := io.WriteString(conn, head); err != nil {
		return
	}
	for i := 0; i < len(rest); i++ {
		if _, err := conn.Write([]byte{rest[i]}); err != nil {
			return
		}
		sent.Add(1)
		time.Sleep(interval)
	}
}

// TestSlowClientsAreCutOff proves the server, not the handler, drops a
// client that sends too slowly: the client would need about 20 seconds to
// finish, and the connection must be closed long before it has (the bound
// of 10 seconds only keeps a broken server from hanging the test).
func TestSlowClientsAreCutOff(t *testing.T) {
	h := httpapi.New(httpapi.Config{NoAuth: true}, panicIngester{}, nopStore{}, nopStore{})
	const (
		interval = 10 * time.Millisecond
		bound    = 10 * time.Second
	)
	slow := strings.Repeat("a", 2000) // 2000 bytes at 10ms: 20 seconds
	tests := []struct {
		name       string
		to         httpapi.Timeouts
		head, rest string
	}{
		{
			name: "headers byte by byte",
			to:   httpapi.Timeouts{ReadHeader: 200 * time.Millisecond},
			head: "POST " + httpapi.WebhookPath + " HTTP/1.1\r\n",
			rest: "Host: x\r\nX-Slow: " + slow + "\r\n\r\n",
		},
		{
			name: "request line byte by byte",
			to:   httpapi.Timeouts{ReadHeader: 200 * time.Millisecond},
			head: "",
			rest: "POST " + httpapi.WebhookPath + "?" + slow + " HTTP/1.1\r\n\r\n",
		},
		{
			name: "body byte by byte",
			to:   httpapi.Timeouts{Read: 300 * time.Millisecond},
			head: "POST " + httpapi.WebhookPath + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000\r\n\r\n",
			rest: slow,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serve(t, h, tt.to)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var sent atomic.Int64
			go dribble(conn, tt.head, tt.rest, interval, &sent)

			conn.SetReadDeadline(time.Now().Add(bound))
			reply, err := io.ReadAll(bufio.NewReader(conn))
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("connection still open after %v with %d of %d bytes sent: the slow client was not cut off", bound, sent.Load(), len(tt.rest))
			}
			if n := sent.Load(); n >= int64(len(tt.rest)) {
				t.Fatalf("the client sent all %d bytes before the connection closed", n)
			}
			// The server either closes silently or answers an error;
			// it never serves the request as if it were complete.
			if len(reply) > 0 && !strings.HasPrefix(string(reply), "HTTP/1.1 4") {
				t.Errorf("reply to a cut-off request: %.80q, want none or a 4xx", reply)
			}
		})
	}
}

func TestServerServesAndBoundsHeaders(t *testing.T) {
	h := httpapi.New(httpapi.Config{NoAuth: true}, panicIngester{}, nopStore{}, nopStore{})
	addr := serve(t, h, httpapi.Timeouts{MaxHeaderBytes: 1 << 10})
	get := func(extra string) int {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Minute))
		go io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n"+extra+"Connection: close\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := get(""); got != 200 {
		t.Errorf("healthz through NewServer: %d, want 200", got)
	}
	// net/http allows 4 KiB of slack over MaxHeaderBytes; 16 KiB is over
	// any reading of the limit.
	if got := get("X-Big: " + strings.Repeat("b", 16<<10) + "\r\n"); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB of headers: %d, want 431", got)
	}
}
