package ga4

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// batchDelivery returns the delivery of event name for call sid, with the
// client id and event time given, changed by edit.
func batchDelivery(sid, name, clientID string, at time.Time, edit func(d *forwarder.Delivery)) forwarder.Delivery {
	return testDelivery(func(d *forwarder.Delivery) {
		d.ID = forwarder.DeliveryID(sid, name, "web")
		d.CallSid, d.Rule = sid, name
		d.CallTime = at
		d.GA4.ClientID, d.GA4.Name, d.GA4.Time = clientID, name, at
		if edit != nil {
			edit(d)
		}
	})
}

// wire is a request as a test server saw it.
type wire struct {
	path          string
	measurementID string
	body          []byte
}

// recorder is a test server that records requests and answers each with
// reply (204 when reply is nil or returns 0).
type recorder struct {
	mu    sync.Mutex
	reqs  []wire
	reply func(w wire) int
	srv   *httptest.Server
}

func newRecorder(t *testing.T, reply func(w wire) int) *recorder {
	t.Helper()
	r := &recorder{reply: reply}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		got := wire{path: req.URL.Path, measurementID: req.URL.Query().Get("measurement_id"), body: body}
		r.mu.Lock()
		r.reqs = append(r.reqs, got)
		r.mu.Unlock()
		status := http.StatusNoContent
		if r.reply != nil {
			if s := r.reply(got); s != 0 {
				status = s
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) requests() []wire {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wire(nil), r.reqs...)
}

// sentBody is the part of a request body these tests read.
type sentBody struct {
	ClientID        string         `json:"client_id"`
	TimestampMicros int64          `json:"timestamp_micros"`
	UserProperties  map[string]any `json:"user_properties"`
	Events          []struct {
		Name            string         `json:"name"`
		Params          map[string]any `json:"params"`
		TimestampMicros int64          `json:"timestamp_micros"`
	} `json:"events"`
}

func decodeBody(t *testing.T, b []byte) sentBody {
	t.Helper()
	var sb sentBody
	if err := json.Unmarshal(b, &sb); err != nil {
		t.Fatalf("request body is not the JSON of a request: %v\n%s", err, b)
	}
	return sb
}

// eventNames returns the names of the events of each request, with the
// client id: "client/name".
func eventNames(t *testing.T, reqs []wire) [][]string {
	t.Helper()
	out := [][]string{}
	for _, r := range reqs {
		sb := decodeBody(t, r.body)
		var names []string
		for _, e := range sb.Events {
			names = append(names, sb.ClientID+"/"+e.Name)
		}
		out = append(out, names)
	}
	return out
}

func TestSendBatchGolden(t *testing.T) {
	callA := testNow.Add(-time.Hour)
	callB := testNow.Add(-2 * time.Hour)
	props := func(d *forwarder.Delivery) {
		d.GA4.UserProperties = map[string]any{"caller_country": "Australia", "lifetime_calls": 3}
	}
	tests := []struct {
		name string
		ds   []forwarder.Delivery
	}{
		{"batch_one_call", []forwarder.Delivery{
			batchDelivery("CA1", "phone_call", testClientID, callA, nil),
			batchDelivery("CA1", "qualified_call", testClientID, callA, func(d *forwarder.Delivery) {
				d.GA4.Params = map[string]any{"value": 50, "currency": "AUD"}
			}),
			batchDelivery("CA1", "long_call", testClientID, callA, func(d *forwarder.Delivery) {
				d.GA4.Params = map[string]any{"engagement_time_msec": 2500}
			}),
		}},
		// Two calls of one caller: each event keeps its own time; the
		// request's time is the earliest; an event time in the future
		// becomes the send time.
		{"batch_two_calls", []forwarder.Delivery{
			batchDelivery("CA1", "phone_call", testClientID, callA, nil),
			batchDelivery("CA2", "phone_call", testClientID, callB, nil),
			batchDelivery("CA3", "phone_call", testClientID, testNow.Add(5*time.Minute), nil),
		}},
		{"batch_user_properties", []forwarder.Delivery{
			batchDelivery("CA1", "phone_call", testClientID, callA, props),
			batchDelivery("CA2", "phone_call", testClientID, callB, props),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, nil)
			errs := newTestSender(rec.srv.URL, nil).SendBatch(context.Background(), tt.ds)
			for i, err := range errs {
				if err != nil {
					t.Errorf("delivery %d: want nil, got %v", i, err)
				}
			}
			reqs := rec.requests()
			if len(reqs) != 1 {
				t.Fatalf("want the %d events in 1 request, got %d", len(tt.ds), len(reqs))
			}
			got := reqs[0].body
			if !json.Valid(got) {
				t.Fatalf("invalid JSON: %s", got)
			}
			sb := decodeBody(t, got)
			if len(sb.Events) != len(tt.ds) {
				t.Fatalf("want %d events, got %d", len(tt.ds), len(sb.Events))
			}
			first := int64(math.MaxInt64)
			for i, e := range sb.Events {
				want := tt.ds[i].GA4.Time
				if want.After(testNow) {
					want = testNow
				}
				if e.TimestampMicros != want.UnixMicro() {
					t.Errorf("event %d: timestamp_micros %d, want its own time %d", i, e.TimestampMicros, want.UnixMicro())
				}
				first = min(first, e.TimestampMicros)
			}
			if sb.TimestampMicros != first {
				t.Errorf("request timestamp_micros %d, want the earliest event's %d", sb.TimestampMicros, first)
			}
			checkGolden(t, tt.name, got)
		})
	}
}

// TestSendBatchOfOneIsSend: a batch of one posts BuildPayload's body, as
// Send does.
func TestSendBatchOfOneIsSend(t *testing.T) {
	rec := newRecorder(t, nil)
	d := testDelivery(nil)
	s := newTestSender(rec.srv.URL, nil)
	if err := s.SendBatch(context.Background(), []forwarder.Delivery{d})[0]; err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	if err := s.Send(context.Background(), d); err != nil {
		t.Fatalf("Send: %v", err)
	}
	want, _ := BuildPayload(d, testNow)
	for i, r := range rec.requests() {
		if !bytes.Equal(r.body, want) {
			t.Errorf("request %d: want BuildPayload's body\nwant: %s\ngot:  %s", i, want, r.body)
		}
	}
}

func TestSendBatchSplitsAt25(t *testing.T) {
	tests := []struct {
		events   int
		wantSize []int
	}{
		{1, []int{1}},
		{25, []int{25}},
		{26, []int{25, 1}},
		{60, []int{25, 25, 10}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.events), func(t *testing.T) {
			rec := newRecorder(t, nil)
			var ds []forwarder.Delivery
			for i := range tt.events {
				ds = append(ds, batchDelivery(fmt.Sprintf("CA%03d", i), fmt.Sprintf("event_%03d", i), testClientID, testNow.Add(-time.Hour), nil))
			}
			errs := newTestSender(rec.srv.URL, nil).SendBatch(context.Background(), ds)
			for i, err := range errs {
				if err != nil {
					t.Errorf("delivery %d: %v", i, err)
				}
			}
			var sizes []int
			var sent []string
			for _, names := range eventNames(t, rec.requests()) {
				sizes = append(sizes, len(names))
				sent = append(sent, names...)
			}
			if !reflect.DeepEqual(sizes, tt.wantSize) {
				t.Errorf("request sizes %v, want %v", sizes, tt.wantSize)
			}
			for i, name := range sent {
				if want := testClientID + "/" + ds[i].GA4.Name; name != want {
					t.Fatalf("event %d is %s, want %s: every event once, in order", i, name, want)
				}
			}
			if len(sent) != tt.events {
				t.Errorf("%d events sent, want %d", len(sent), tt.events)
			}
		})
	}
}

// bigDelivery returns a delivery whose event is about size bytes of JSON.
func bigDelivery(i, size int) forwarder.Delivery {
	return batchDelivery(fmt.Sprintf("CA%03d", i), fmt.Sprintf("event_%03d", i), testClientID, testNow.Add(-time.Hour),
		func(d *forwarder.Delivery) {
			d.GA4.Params = map[string]any{}
			for p := 0; p*110 < size; p++ {
				d.GA4.Params[fmt.Sprintf("p%03d", p)] = strings.Repeat("x", 100)
			}
		})
}

func TestSendBatchSplitsAtBodyLimit(t *testing.T) {
	rec := newRecorder(t, nil)
	var ds []forwarder.Delivery
	for i := range 25 {
		ds = append(ds, bigDelivery(i, 12_000))
	}
	s := newTestSender(rec.srv.URL, nil)
	errs := s.SendBatch(context.Background(), ds)
	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d: %v", i, err)
		}
	}
	reqs := rec.requests()
	if len(reqs) < 3 {
		t.Fatalf("25 events of 12 kB in %d requests, want at least 3 (each under 130 kB)", len(reqs))
	}
	var sent []string
	for _, r := range reqs {
		if len(r.body) >= MaxBodyBytes {
			t.Errorf("a request of %d bytes, want under %d", len(r.body), MaxBodyBytes)
		}
		for _, e := range decodeBody(t, r.body).Events {
			sent = append(sent, e.Name)
		}
	}
	for i, name := range sent {
		if name != ds[i].GA4.Name {
			t.Fatalf("event %d is %s, want %s: every event once, in order", i, name, ds[i].GA4.Name)
		}
	}
	if len(sent) != len(ds) {
		t.Errorf("%d events sent, want %d", len(sent), len(ds))
	}
	// Each request is as full as the limit allows: with the next event it
	// would reach the limit.
	planned, _ := s.plan(opSend, ds, testNow)
	if len(planned) != len(reqs) {
		t.Fatalf("plan has %d requests, the server saw %d", len(planned), len(reqs))
	}
	for k := 0; k+1 < len(planned); k++ {
		next := ds[planned[k+1].idx[0]]
		with := append(append([]forwarder.Delivery{}, indexed(ds, planned[k].idx)...), next)
		p, _ := s.plan(opSend, with, testNow)
		if len(p) == 1 {
			t.Errorf("request %d (%d bytes) could also have carried the next event", k, len(planned[k].body))
		}
	}
}

func indexed(ds []forwarder.Delivery, idx []int) []forwarder.Delivery {
	out := make([]forwarder.Delivery, len(idx))
	for j, i := range idx {
		out[j] = ds[i]
	}
	return out
}

// TestBatchBodySize: the size the packing computes is the size of the
// body it builds.
func TestBatchBodySize(t *testing.T) {
	s := newTestSender("http://127.0.0.1:1", nil)
	for _, n := range []int{2, 3, 25} {
		var items []planned
		var fields []byte
		for i := range n {
			d := bigDelivery(i, 300*i)
			d.GA4.Time = testNow.Add(-time.Duration(i) * time.Minute)
			p, f, _, err := s.prepare(opSend, d, testNow)
			if err != nil {
				t.Fatal(err)
			}
			items, fields = append(items, p), f
		}
		body := encodeBatch(fields, items)
		eventBytes := 0
		for _, p := range items {
			eventBytes += len(p.event)
		}
		if got := batchBodySize(len(fields), n, eventBytes, items[n-1].ts); got != len(body) {
			t.Errorf("%d events: computed %d bytes, body has %d", n, got, len(body))
		}
		if !json.Valid(body) {
			t.Errorf("%d events: invalid JSON %s", n, body)
		}
	}
}

func TestSendBatchRefusesOversizedEvent(t *testing.T) {
	rec := newRecorder(t, nil)
	ds := []forwarder.Delivery{bigDelivery(0, 1000), bigDelivery(1, 140_000), bigDelivery(2, 1000)}
	errs := newTestSender(rec.srv.URL, nil).SendBatch(context.Background(), ds)
	if errs[0] != nil || errs[2] != nil {
		t.Errorf("the small events: want nil, got %v and %v", errs[0], errs[2])
	}
	if se := forwarder.Classify(errs[1]); errs[1] == nil || se.Kind != forwarder.KindPermanent || se.Code != "payload_too_large" {
		t.Errorf("the oversized event: want permanent payload_too_large, got %v", errs[1])
	}
	assertNoLeak(t, errs[1])
	for _, r := range rec.requests() {
		if len(r.body) >= MaxBodyBytes {
			t.Errorf("a request of %d bytes was sent", len(r.body))
		}
		for _, e := range decodeBody(t, r.body).Events {
			if e.Name == ds[1].GA4.Name {
				t.Errorf("the oversized event was sent")
			}
		}
	}
	if got := eventNames(t, rec.requests()); len(got) != 1 || len(got[0]) != 2 {
		t.Errorf("requests %v, want the two small events in one", got)
	}
}

// TestSendBatchMapsFailuresPerRequest: a request's reply settles the
// deliveries it carried, and only those; refusals are per delivery.
func TestSendBatchMapsFailuresPerRequest(t *testing.T) {
	const (
		okClient   = "111.111"
		failClient = "222.222"
		badClient  = "333.333"
		otherMID   = "G-OTHER1"
		unknownMID = "G-NOSECRET"
	)
	rec := newRecorder(t, func(w wire) int {
		switch {
		case bytes.Contains(w.body, []byte(failClient)):
			return http.StatusServiceUnavailable
		case bytes.Contains(w.body, []byte(badClient)):
			return http.StatusBadRequest
		}
		return 0
	})
	at := testNow.Add(-time.Hour)
	mid := func(m string) func(d *forwarder.Delivery) {
		return func(d *forwarder.Delivery) { d.GA4.MeasurementID = m }
	}
	ds := []forwarder.Delivery{
		0: batchDelivery("CA1", "phone_call", okClient, at, nil),
		1: batchDelivery("CA2", "phone_call", failClient, at, nil),
		2: batchDelivery("CA1", "qualified_call", okClient, at, nil),
		3: batchDelivery("CA3", "phone_call", badClient, at, nil),
		4: batchDelivery("CA2", "qualified_call", failClient, at, nil),
		5: batchDelivery("CA4", "phone_call", okClient, at, func(d *forwarder.Delivery) { d.GA4.Time = testNow.Add(-80 * time.Hour) }),
		6: batchDelivery("CA1", "phone_call", okClient, at, mid(otherMID)),
		7: batchDelivery("CA1", "phone_call", okClient, at, mid(unknownMID)),
		8: batchDelivery("CA5", "phone_call", "", at, nil),
	}
	s := NewSender(Config{
		Endpoint: rec.srv.URL,
		Secrets:  map[string]string{testMID: testSecret, otherMID: "other-secret"},
		Now:      func() time.Time { return testNow },
	})
	errs := s.SendBatch(context.Background(), ds)
	want := []string{0: "", 1: "transient http_503", 2: "", 3: "permanent http_400", 4: "transient http_503",
		5: "permanent event_too_old", 6: "", 7: "permanent no_api_secret", 8: "permanent no_client_id"}
	if len(errs) != len(ds) {
		t.Fatalf("%d errors for %d deliveries", len(errs), len(ds))
	}
	for i, err := range errs {
		got := ""
		if err != nil {
			se := forwarder.Classify(err)
			got = fmt.Sprintf("%s %s", se.Kind, se.Code)
		}
		if got != want[i] {
			t.Errorf("delivery %d: want %q, got %q (%v)", i, want[i], got, err)
		}
	}
	wantReqs := map[string][]string{
		testMID + " " + okClient:   {"phone_call", "qualified_call"},
		testMID + " " + failClient: {"phone_call", "qualified_call"},
		testMID + " " + badClient:  {"phone_call"},
		otherMID + " " + okClient:  {"phone_call"},
	}
	reqs := rec.requests()
	if len(reqs) != len(wantReqs) {
		t.Errorf("%d requests, want %d (one per measurement id and client id)", len(reqs), len(wantReqs))
	}
	for _, r := range reqs {
		sb := decodeBody(t, r.body)
		var names []string
		for _, e := range sb.Events {
			names = append(names, e.Name)
		}
		k := r.measurementID + " " + sb.ClientID
		if !reflect.DeepEqual(names, wantReqs[k]) {
			t.Errorf("request for %s carried %v, want %v", k, names, wantReqs[k])
		}
	}
}

func TestSendBatchContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := newRecorder(t, nil)
	// The first request is answered; then ctx ends: the rest must not be
	// sent.
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		cancel()
		return resp, err
	})}
	at := testNow.Add(-time.Hour)
	ds := []forwarder.Delivery{
		batchDelivery("CA1", "phone_call", "1.1", at, nil),
		batchDelivery("CA2", "phone_call", "2.2", at, nil),
		batchDelivery("CA3", "phone_call", "3.3", at, nil),
	}
	errs := newTestSender(rec.srv.URL, client).SendBatch(ctx, ds)
	if errs[0] != nil {
		t.Errorf("the request that was answered: want nil, got %v", errs[0])
	}
	for i := 1; i < len(ds); i++ {
		if se := forwarder.Classify(errs[i]); errs[i] == nil || se.Code != "canceled" {
			t.Errorf("delivery %d: want transient canceled, got %v", i, errs[i])
		}
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("%d requests sent, want 1", n)
	}
}

type roundTripFunc func(r *http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestBatchKey(t *testing.T) {
	at := testNow.Add(-time.Hour)
	base := batchDelivery("CA1", "phone_call", testClientID, at, func(d *forwarder.Delivery) {
		d.GA4.UserProperties = map[string]any{"caller_country": "Australia", "lifetime_calls": 3}
	})
	edit := func(f func(d *forwarder.Delivery)) forwarder.Delivery {
		d := base
		ev := *base.GA4
		ev.UserProperties = map[string]any{"caller_country": "Australia", "lifetime_calls": 3}
		d.GA4 = &ev
		f(&d)
		return d
	}
	tests := []struct {
		name string
		d    forwarder.Delivery
		same bool
	}{
		{"another event of another call", edit(func(d *forwarder.Delivery) {
			d.ID, d.GA4.Name, d.GA4.Params, d.GA4.Time = "CA2/x/web", "qualified_call", map[string]any{"value": 50}, at.Add(-time.Hour)
		}), true},
		{"user properties given in another order", edit(func(d *forwarder.Delivery) {
			d.GA4.UserProperties = map[string]any{"lifetime_calls": 3, "caller_country": "Australia"}
		}), true},
		{"another client id", edit(func(d *forwarder.Delivery) { d.GA4.ClientID = "999.999" }), false},
		{"another measurement id", edit(func(d *forwarder.Delivery) { d.GA4.MeasurementID = "G-OTHER1" }), false},
		{"another user property value", edit(func(d *forwarder.Delivery) { d.GA4.UserProperties["lifetime_calls"] = 4 }), false},
		{"no user properties", edit(func(d *forwarder.Delivery) { d.GA4.UserProperties = nil }), false},
		{"unencodable user property", edit(func(d *forwarder.Delivery) { d.GA4.UserProperties["x"] = math.Inf(1) }), false},
		{"a consent", edit(func(d *forwarder.Delivery) { d.GA4.Consent = &forwarder.GA4Consent{AdUserData: "DENIED"} }), false},
	}
	key := BatchKey(base)
	if strings.Contains(key, testClientID) {
		t.Errorf("the key %q holds the client id", key)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BatchKey(tt.d) == key; got != tt.same {
				t.Errorf("same key: want %v, got %v", tt.same, got)
			}
		})
	}
	if k := BatchKey(forwarder.Delivery{ID: "x"}); k != "" {
		t.Errorf("a delivery without GA4 event: want key \"\", got %q", k)
	}
	a := edit(func(d *forwarder.Delivery) { d.ID = "a"; d.GA4.UserProperties["x"] = math.NaN() })
	b := edit(func(d *forwarder.Delivery) { d.ID = "b"; d.GA4.UserProperties["x"] = math.NaN() })
	if BatchKey(a) == BatchKey(b) {
		t.Error("two deliveries with unencodable user properties share a key; each must be alone")
	}
}

func TestBatchLimits(t *testing.T) {
	n, window := NewSender(Config{}).BatchLimits()
	if n != 25 || window <= 0 || window > time.Second {
		t.Errorf("BatchLimits: want 25 and a window in (0, 1s], got %d and %s", n, window)
	}
}

func TestValidateBatch(t *testing.T) {
	at := testNow.Add(-time.Hour)
	ds := []forwarder.Delivery{
		batchDelivery("CA1", "phone_call", "1.1", at, nil),
		batchDelivery("CA1", "page_view", "1.1", at, nil),
		batchDelivery("CA1", "qualified_call", "1.1", at, nil),
		batchDelivery("CA2", "phone_call", "2.2", at, nil),
		batchDelivery("CA3", "phone_call", "", at, nil),
	}
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if bytes.Contains(body, []byte(`"1.1"`)) {
			_, _ = io.WriteString(w, `{"validationMessages":[
				{"fieldPath":"events[1].name","description":"reserved","validationCode":"NAME_RESERVED"},
				{"fieldPath":"events[1].params.x","description":"bad","validationCode":"VALUE_INVALID"},
				{"fieldPath":"user_id","description":"bad","validationCode":"VALUE_INVALID"}]}`)
			return
		}
		_, _ = io.WriteString(w, `{"validationMessages":[]}`)
	}))
	defer srv.Close()

	msgs, errs := newTestSender(srv.URL, nil).ValidateBatch(context.Background(), ds)
	wantCodes := [][]string{
		{"VALUE_INVALID user_id"},
		{"NAME_RESERVED events[1].name", "VALUE_INVALID events[1].params.x", "VALUE_INVALID user_id"},
		{"VALUE_INVALID user_id"},
		{},
		nil,
	}
	for i := range ds {
		if i == 4 {
			if se := forwarder.Classify(errs[i]); errs[i] == nil || se.Code != "no_client_id" {
				t.Errorf("delivery 4: want no_client_id, got %v", errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("delivery %d: want no error, got %v", i, errs[i])
			continue
		}
		got := []string{}
		for _, m := range msgs[i] {
			got = append(got, m.ValidationCode+" "+m.FieldPath)
		}
		if !reflect.DeepEqual(got, wantCodes[i]) {
			t.Errorf("delivery %d: findings %v, want %v", i, got, wantCodes[i])
		}
	}
	if len(paths) != 2 || paths[0] != debugPath || paths[1] != debugPath {
		t.Errorf("requests to %v, want two to %s", paths, debugPath)
	}
}

// sizedDelivery returns a delivery i whose one param is tuned so that
// size(d) is want; size must grow by one byte per byte of the param.
func sizedDelivery(t *testing.T, i int, want int, size func(d forwarder.Delivery) int) forwarder.Delivery {
	t.Helper()
	mk := func(n int) forwarder.Delivery {
		return batchDelivery(fmt.Sprintf("CA%03d", i), fmt.Sprintf("event_%03d", i), testClientID, testNow.Add(-time.Hour),
			func(d *forwarder.Delivery) { d.GA4.Params = map[string]any{"note": strings.Repeat("x", n)} })
	}
	n := 1000 + want - size(mk(1000))
	d := mk(n)
	if got := size(d); got != want {
		t.Fatalf("tuned delivery is %d bytes, want %d", got, want)
	}
	return d
}

// TestSendBatchBodyLimitBoundary: a body must be smaller than
// MaxBodyBytes: one byte less shares a request, the limit itself does not.
func TestSendBatchBodyLimitBoundary(t *testing.T) {
	s := newTestSender("http://127.0.0.1:1", nil)
	small := batchDelivery("CA900", "phone_call", testClientID, testNow.Add(-time.Hour), nil)
	// pairSize is the body of a request with small and d.
	pairSize := func(d forwarder.Delivery) int {
		reqs, _ := s.plan(opSend, []forwarder.Delivery{small, d}, testNow)
		n := 0
		for _, p := range []forwarder.Delivery{small, d} {
			pl, _, _, err := s.prepare(opSend, p, testNow)
			if err != nil {
				t.Fatal(err)
			}
			n += len(pl.event)
		}
		fields, _ := encodeFields(small.GA4)
		if len(reqs) == 1 && len(reqs[0].body) != batchBodySize(len(fields), 2, n, testNow.Add(-time.Hour).UnixMicro()) {
			t.Fatalf("computed size differs from the body")
		}
		return batchBodySize(len(fields), 2, n, testNow.Add(-time.Hour).UnixMicro())
	}
	// loneSize is the body of a request of several holding d alone.
	loneSize := func(d forwarder.Delivery) int {
		pl, fields, _, err := s.prepare(opSend, d, testNow)
		if err != nil {
			t.Fatal(err)
		}
		return batchBodySize(len(fields), 1, len(pl.event), pl.ts)
	}
	tests := []struct {
		name     string
		d        forwarder.Delivery
		wantReqs int
	}{
		{"pair one byte under the limit", sizedDelivery(t, 1, MaxBodyBytes-1, pairSize), 1},
		{"pair at the limit", sizedDelivery(t, 2, MaxBodyBytes, pairSize), 2},
		// Too large to share a request, small enough for a request of one.
		{"lone event at the limit", sizedDelivery(t, 3, MaxBodyBytes, loneSize), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, nil)
			errs := newTestSender(rec.srv.URL, nil).SendBatch(context.Background(), []forwarder.Delivery{small, tt.d})
			for i, err := range errs {
				if err != nil {
					t.Errorf("delivery %d: want nil, got %v", i, err)
				}
			}
			reqs := rec.requests()
			if len(reqs) != tt.wantReqs {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantReqs)
			}
			for _, r := range reqs {
				if len(r.body) >= MaxBodyBytes {
					t.Errorf("a body of %d bytes, want under %d", len(r.body), MaxBodyBytes)
				}
			}
		})
	}
}

// TestSendBatchFailureOfOneSplit: the events of one client id split over
// two requests; the second request's failure settles its events only.
func TestSendBatchFailureOfOneSplit(t *testing.T) {
	var n int
	var mu sync.Mutex
	rec := newRecorder(t, func(wire) int {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 2 {
			return http.StatusTooManyRequests
		}
		return 0
	})
	var ds []forwarder.Delivery
	for i := range 30 {
		ds = append(ds, batchDelivery(fmt.Sprintf("CA%03d", i), "phone_call", testClientID, testNow.Add(-time.Hour), nil))
	}
	errs := newTestSender(rec.srv.URL, nil).SendBatch(context.Background(), ds)
	for i, err := range errs {
		se := forwarder.Classify(err)
		switch {
		case i < 25 && err != nil:
			t.Errorf("delivery %d (first request): want nil, got %v", i, err)
		case i >= 25 && (err == nil || se.Kind != forwarder.KindTransient || se.Code != "http_429"):
			t.Errorf("delivery %d (second request): want transient http_429, got %v", i, err)
		}
	}
	if got := len(rec.requests()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}
