package googleads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"google.golang.org/api/datamanager/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// ingestClient posts events:ingest requests whose body is already
// encoded (AppendIngestRequest): the request the generated client sends,
// same URL, headers and body, without the client's encoding.
type ingestClient struct {
	client *http.Client
	url    string
	header http.Header
}

// newIngestClient returns the ingestClient of dm, which sends through
// client.
func newIngestClient(ctx context.Context, dm *datamanager.Service, client *http.Client) (ingestClient, error) {
	h, err := clientHeader(ctx)
	if err != nil {
		return ingestClient{}, err
	}
	return ingestClient{
		client: client,
		url:    googleapi.ResolveRelative(dm.BasePath, "v1/events:ingest") + "?alt=json&prettyPrint=false",
		header: h,
	}, nil
}

// errHeaderRead stops the request clientHeader has the client build.
var errHeaderRead = errors.New("googleads: request headers read")

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// clientHeader returns the headers the generated Data Manager client
// sends with events:ingest: the content type, its User-Agent and its
// x-goog-api-client, which names the library's and Go's versions. They
// are read from a request the client builds and that goes nowhere.
func clientHeader(ctx context.Context) (http.Header, error) {
	var h http.Header
	stop := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		h = r.Header.Clone()
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, errHeaderRead
	})
	svc, err := datamanager.NewService(ctx,
		option.WithEndpoint("http://localhost/"),
		option.WithHTTPClient(&http.Client{Transport: stop}),
		option.WithLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		return nil, fmt.Errorf("googleads: data manager client: %w", err)
	}
	_, err = svc.Events.Ingest(&datamanager.IngestEventsRequest{}).Do()
	if h == nil {
		return nil, fmt.Errorf("googleads: data manager client: read its request headers: %w", err)
	}
	return h, nil
}

// post sends body, an encoded events:ingest request from bodyPool, and
// returns Google's answer; the buffer goes back to the pool when the
// transport is done with it. The errors are those of the generated
// client's Do: a *googleapi.Error for an answer other than 2xx, ctx's
// error when ctx ended, else the transport's or the decoder's.
func (c ingestClient) post(ctx context.Context, body *[]byte) (*datamanager.IngestEventsResponse, error) {
	b := newPooledBody(body, putBodyBuffer)
	// The request holds one reference until Do returns: no reader can be
	// made of the body after that.
	defer b.release()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Body, req.GetBody, req.ContentLength = b.reader(), b.getBody, int64(len(*body))
	req.Header = c.header.Clone()
	res, err := c.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	defer googleapi.CloseBody(res)
	if err := googleapi.CheckResponse(res); err != nil {
		return nil, err
	}
	out := &datamanager.IngestEventsResponse{ServerResponse: googleapi.ServerResponse{Header: res.Header, HTTPStatusCode: res.StatusCode}}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxReply)).Decode(out); err != nil {
		return nil, fmt.Errorf("decode the answer: %w", err)
	}
	return out, nil
}

// bodyPool holds the buffers of events:ingest bodies (*[]byte): a full
// request is hundreds of kilobytes, written at every send.
var bodyPool sync.Pool

// getBodyBuffer returns an empty buffer from bodyPool, or a new one of
// capacity hint.
func getBodyBuffer(hint int) *[]byte {
	if b, ok := bodyPool.Get().(*[]byte); ok {
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, hint)
	return &b
}

// maxPooledBody is the largest buffer kept for reuse.
const maxPooledBody = 8 << 20

func putBodyBuffer(b *[]byte) {
	if cap(*b) <= maxPooledBody {
		bodyPool.Put(b)
	}
}

// errBodyClosed is what a request body reads after it was closed.
var errBodyClosed = errors.New("googleads: request body read after close")

// pooledBody is a request body over a pooled buffer. The transport may
// read the body after Do returned (Client.Do: "the Body may be closed
// asynchronously after Do returns") and may make more readers of it
// (GetBody, for a retry or a redirect); the buffer is handed to free only
// when every reader is closed and the request is over (release).
type pooledBody struct {
	buf  *[]byte
	free func(*[]byte)

	mu   sync.Mutex
	refs int  // open readers, plus one until release
	done bool // the buffer was handed to free
}

func newPooledBody(buf *[]byte, free func(*[]byte)) *pooledBody {
	return &pooledBody{buf: buf, free: free, refs: 1}
}

// reader returns a new reader of the whole body; once the buffer is
// freed, one that fails.
func (p *pooledBody) reader() io.ReadCloser {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return &bodyReader{closed: true}
	}
	p.refs++
	return &bodyReader{p: p, r: bytes.NewReader(*p.buf)}
}

// getBody is the request's GetBody.
func (p *pooledBody) getBody() (io.ReadCloser, error) {
	r := p.reader()
	if r.(*bodyReader).closed {
		return nil, errBodyClosed
	}
	return r, nil
}

// release drops a reference: a reader's, or the request's.
func (p *pooledBody) release() {
	p.mu.Lock()
	p.refs--
	free := p.refs == 0 && !p.done
	if free {
		p.done = true
	}
	p.mu.Unlock()
	if free {
		p.free(p.buf)
	}
}

// bodyReader is one reader of a pooledBody. A read never overlaps its
// close, and none reaches the buffer after it.
type bodyReader struct {
	p      *pooledBody
	mu     sync.Mutex
	r      *bytes.Reader
	closed bool
}

func (b *bodyReader) Read(q []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyClosed
	}
	return b.r.Read(q)
}

func (b *bodyReader) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed, b.r = true, nil
		b.p.release()
	}
	return nil
}
