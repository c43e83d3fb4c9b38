package googleads_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
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
