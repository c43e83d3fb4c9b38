package diagnose_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	datamanager "google.golang.org/api/datamanager/v1"
	"google.golang.org/api/option"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/diagnose"
	"github.com/callforward/callforward/forwarder/emulator"
	"github.com/callforward/callforward/forwarder/googleads"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestReadEmulatedProcessing ingests a request through the generated
// client, polls requestStatus:retrieve through it, and reads the answer:
// the emulator stands in for Google's processing, with a delay and
// rejections by click prefix.
func TestReadEmulatedProcessing(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	em := emulator.New(emulator.Options{Now: clk.now, Ads: emulator.AdsConfig{Processing: emulator.ProcessingConfig{
		DelayMS:             int64((30 * time.Minute) / time.Millisecond),
		RejectGCLIDPrefixes: map[string]string{"EXPIRED-": "PROCESSING_ERROR_REASON_EXPIRED_CLICK"},
		MinPollGapMS:        int64((30 * time.Minute) / time.Millisecond),
	}}})
	srv := httptest.NewServer(em.Handler())
	defer srv.Close()
	ctx := context.Background()

	conf := &oauth2.Config{ClientID: "id", ClientSecret: "cs", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token"}}
	ts := conf.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, srv.Client()), &oauth2.Token{RefreshToken: "rt"})
	dm, err := datamanager.NewService(ctx, option.WithEndpoint(srv.URL+"/"),
		option.WithHTTPClient(oauth2.NewClient(context.WithValue(ctx, oauth2.HTTPClient, srv.Client()), ts)),
		option.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}

	callTime := clk.now().Add(-2 * time.Hour)
	conv := func(gclid, action string) *forwarder.AdsConversion {
		value := 10.0
		return &forwarder.AdsConversion{Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick,
			CustomerID: "1234567890", ConversionAction: action, GCLID: gclid,
			Time: callTime, Value: &value, Currency: "AUD", TransactionID: gclid + "/" + action, AdUserData: "GRANTED"}
	}
	convs := []*forwarder.AdsConversion{conv("OK-1", "111"), conv("EXPIRED-2", "222"), conv("OK-3", "222"), conv("EXPIRED-4", "111")}
	resp, err := dm.Events.Ingest(googleads.BuildIngestRequest(convs, false)).Context(ctx).Do()
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	destOf := []int{0, 1, 1, 0} // actions in first-seen order: 111, 222

	poll := func() ([]forwarder.Verdict, bool) {
		t.Helper()
		st, err := dm.RequestStatus.Retrieve().RequestId(resp.RequestId).Context(ctx).Do()
		if err != nil {
			t.Fatalf("retrieve: %v", err)
		}
		v, done, err := diagnose.Read(st, destOf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return v, done
	}
	if _, done := poll(); done {
		t.Fatal("done before the processing delay")
	}
	clk.add(30 * time.Minute)
	v, done := poll()
	if !done {
		t.Fatal("still processing after the delay")
	}
	want := []string{"counted", "rejected by Google: EXPIRED_CLICK", "counted", "rejected by Google: EXPIRED_CLICK"}
	for i := range want {
		if v[i].String() != want[i] {
			t.Errorf("event %d: %q, want %q", i, v[i], want[i])
		}
	}
	if r := em.RequestStatusPolls(); r.Polls != 2 || r.Violations != 0 {
		t.Errorf("poll report %+v, want 2 polls and no violation", r)
	}
	poll() // too soon after the last one
	if r := em.RequestStatusPolls(); r.Violations != 1 {
		t.Errorf("poll report %+v, want the early poll counted as a violation", r)
	}

	if _, err := dm.RequestStatus.Retrieve().RequestId("no-such-request").Context(ctx).Do(); err == nil {
		t.Error("unknown request id answered")
	}
}
