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

// post sends body, an encoded events:ingest request, and returns Google's
// answer. Its errors are those of the generated client's Do: a
// *googleapi.Error for an answer other than 2xx, ctx's error when ctx
// ended, else the transport's or the decoder's.
func (c ingestClient) post(ctx context.Context, body []byte) (*datamanager.IngestEventsResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
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
