package googleads_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/googleads"
	"golang.org/x/oauth2"
	"google.golang.org/api/datamanager/v1"
	"google.golang.org/api/option"
)

// recorded is what a server saw of one request.
type recorded struct {
	method, uri string
	header      http.Header
	body        []byte
}

// recorder is a Data Manager stand-in that keeps the requests it gets and
// accepts them.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, recorded{r.Method, r.RequestURI, r.Header.Clone(), body})
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"requestId":"req-1"}`)
}

// take returns the requests seen since the last take.
func (rec *recorder) take() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.reqs
	rec.reqs = nil
	return out
}

// TestIngestRequestIsTheClients sends one batch through the sender and the
// same request through the generated client: the server must see the
// same method, URL, headers (but the sender's access token) and body,
// byte for byte.
func TestIngestRequestIsTheClients(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	dm := forwarder.AdsBackendDataManager
	ds := []forwarder.Delivery{click(dm, "Cj0KCQone"), click(dm, "Cj0KCQtwo"), click(dm, "Cj0KCQthree")}
	zero := 0.0
	ds[1].Ads.Value, ds[1].Ads.ConversionAction = &zero, "123"
	ds[2].Ads.TransactionID = `tx <&> "é" ` + "\u2028"
	convs := make([]*forwarder.AdsConversion, len(ds))
	for i, d := range ds {
		convs[i] = d.CleanTexts().Ads
	}

	ctx := context.Background()
	for _, validateOnly := range []bool{false, true} {
		s, err := googleads.NewSender(ctx, googleads.Config{
			DataManagerEndpoint: srv.URL,
			TokenSource:         oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "token"}),
			HTTPClient:          srv.Client(),
			ValidateOnly:        validateOnly,
			Now:                 func() time.Time { return testNow },
		})
		if err != nil {
			t.Fatal(err)
		}
		errs, recs := s.SendBatchReceipts(ctx, ds)
		if got := outcomes(errs); !slices.Equal(got, []string{"ok", "ok", "ok"}) {
			t.Fatalf("outcomes %v", got)
		}
		if want := (forwarder.Receipt{RequestID: "req-1", Index: 1, Dest: 1}); !validateOnly && recs[1] != want {
			t.Errorf("receipt %+v, want %+v", recs[1], want)
		}
		client, err := datamanager.NewService(ctx, option.WithEndpoint(srv.URL), option.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Events.Ingest(googleads.BuildIngestRequest(convs, validateOnly)).Context(ctx).Do(); err != nil {
			t.Fatal(err)
		}
		reqs := rec.take()
		if len(reqs) != 2 {
			t.Fatalf("%d requests, want 2", len(reqs))
		}
		ours, theirs := reqs[0], reqs[1]
		if ours.method != theirs.method || ours.uri != theirs.uri {
			t.Errorf("sender: %s %s, client: %s %s", ours.method, ours.uri, theirs.method, theirs.uri)
		}
		if got := ours.header.Get("Authorization"); got != "Bearer token" {
			t.Errorf("Authorization %q, want the token", got)
		}
		ours.header.Del("Authorization")
		for k := range theirs.header {
			if !slices.Equal(ours.header[k], theirs.header[k]) {
				t.Errorf("header %s: sender %q, client %q", k, ours.header[k], theirs.header[k])
			}
		}
		for k := range ours.header {
			if _, ok := theirs.header[k]; !ok {
				t.Errorf("header %s sent by the sender only", k)
			}
		}
		if theirs.header.Get("X-Goog-Api-Client") == "" || theirs.header.Get("User-Agent") == "" {
			t.Errorf("the client's headers lack its names: %v", theirs.header)
		}
		if !bytes.Equal(ours.body, theirs.body) {
			t.Errorf("bodies differ\nsender: %s\nclient: %s", ours.body, theirs.body)
		}
	}
}

// TestIngestBodiesOutliveEarlyAnswers has a server that answers half the
// requests before reading their body, while senders keep encoding new
// ones: a body buffer must not be reused while the transport may still
// write it (the race detector watches), and every body read in full must
// be one batch's, intact.
func TestIngestBodiesOutliveEarlyAnswers(t *testing.T) {
	var n atomic.Int64
	var bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			// Answered at once; the rest of the body is read (or the
			// connection closed) after the sender has the answer.
			http.Error(w, `{"error":{"code":503,"message":"busy","status":"UNAVAILABLE"}}`, http.StatusServiceUnavailable)
			w.(http.Flusher).Flush()
			q := make([]byte, 16<<10)
			for range 16 {
				if _, err := r.Body.Read(q); err != nil {
					break
				}
				time.Sleep(time.Millisecond)
			}
			return
		}
		var req struct {
			Events []struct {
				TransactionID string `json:"transactionId"`
			} `json:"events"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Events) == 0 {
			bad.Add(1)
		} else {
			batch, _, _ := strings.Cut(req.Events[0].TransactionID, "/")
			for _, e := range req.Events {
				if !strings.HasPrefix(e.TransactionID, batch+"/") {
					bad.Add(1)
					break
				}
			}
		}
		_, _ = io.WriteString(w, `{"requestId":"req"}`)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	s, err := googleads.NewSender(ctx, googleads.Config{
		DataManagerEndpoint: srv.URL,
		TokenSource:         oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "token"}),
		HTTPClient:          srv.Client(),
		Now:                 func() time.Time { return testNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 3 {
		ds := make([]forwarder.Delivery, googleads.MaxBatch)
		for j := range ds {
			ds[j] = click(forwarder.AdsBackendDataManager, fmt.Sprintf("Cj0KCQ%d", j))
		}
		wg.Go(func() {
			for i := range 4 {
				for j, d := range ds {
					d.Ads.TransactionID = fmt.Sprintf("w%di%d/%d", w, i, j)
				}
				s.SendBatch(ctx, ds)
			}
		})
	}
	wg.Wait()
	if n.Load() != 12 || bad.Load() != 0 {
		t.Errorf("%d requests, %d of the bodies read wrong; want 12 and 0", n.Load(), bad.Load())
	}
}
