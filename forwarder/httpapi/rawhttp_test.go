package httpapi_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/httpapi"
)

// rawRequest is an HTTP/1.1 request written byte for byte, so that a test
// can send what a well-behaved client library would refuse to: odd
// request targets, repeated headers, chunked bodies, lying lengths.
type rawRequest struct {
	method  string   // default POST
	target  string   // request target as sent; default the webhook path
	headers []string // "Name: value" lines, sent as given
	body    []byte
	// chunked sends the body with Transfer-Encoding: chunked; otherwise
	// it is sent with its Content-Length (none for an empty GET).
	chunked bool
	// length, when not zero, is the Content-Length declared instead of the
	// body's; the body is then not sent at all.
	length int64
}

// rawReply is what came back.
type rawReply struct {
	status int
	header http.Header
	body   []byte
}

func (rr rawRequest) bytes(target string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: callforward.test\r\nConnection: close\r\n", rr.method, target)
	for _, h := range rr.headers {
		b.WriteString(h + "\r\n")
	}
	switch {
	case rr.length != 0:
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", rr.length)
		return b.Bytes()
	case rr.chunked:
		b.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		for rest := rr.body; len(rest) > 0; {
			n := min(len(rest), 4000)
			fmt.Fprintf(&b, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		b.WriteString("0\r\n\r\n")
		return b.Bytes()
	case len(rr.body) > 0 || rr.method != http.MethodGet:
		b.WriteString("Content-Length: " + strconv.Itoa(len(rr.body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(rr.body)
	return b.Bytes()
}

// sendRaw writes rr to addr on a new connection and reads the reply.
func sendRaw(t *testing.T, addr string, rr rawRequest) rawReply {
	t.Helper()
	if rr.method == "" {
		rr.method = http.MethodPost
	}
	target := rr.target
	if target == "" {
		target = httpapi.WebhookPath
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A bound on a stuck exchange, so a bug fails the test instead of
	// hanging it; no reply here comes anywhere near it.
	conn.SetDeadline(time.Now().Add(time.Minute))
	// The server may answer (413) and close before it has read it all, so
	// the write's error is not the test's concern: the reply is.
	go conn.Write(rr.bytes(target))
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: rr.method})
	if err != nil {
		t.Fatalf("%s %.60q: no reply: %v", rr.method, target, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %.60q: reading reply: %v", rr.method, target, err)
	}
	return rawReply{res.StatusCode, res.Header, body}
}

// hostAddr is the host:port of a test server's URL.
func hostAddr(url string) string { return strings.TrimPrefix(url, "http://") }
