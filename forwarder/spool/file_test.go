package spool

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var goldenTime = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// goldenCall returns the call and deliveries of testdata/record.golden.json.
func goldenCall() (*forwarder.Call, []forwarder.Delivery) {
	duration := 95
	call := &forwarder.Call{
		Action:      "Call.Complete",
		Event:       forwarder.EventComplete,
		AccountSid:  "AC0001",
		PropertySid: "PR0001",
		Sid:         "CA0e8f9a7b:6c5d",
		StartDate:   goldenTime.Add(-5 * time.Minute),
		From:        "+61400000001",
		Duration:    &duration,
		Disposition: forwarder.DispositionAnswered,
		GAClientID:  "1234567890.1700000000",
	}
	d := forwarder.Delivery{
		ID:          forwarder.DeliveryID(call.Sid, "answered", "web"),
		CallSid:     call.Sid,
		Rule:        "answered",
		Destination: "web",
		Type:        forwarder.DestinationGA4,
		CallTime:    call.StartDate,
		GA4: &forwarder.GA4Event{
			MeasurementID: "G-TEST000001",
			ClientID:      call.GAClientID,
			Name:          "phone_call",
			Params:        map[string]any{"duration": 95.0, "outcome": "ANSWERED"},
			Time:          call.StartDate,
		},
	}
	return call, []forwarder.Delivery{d}
}

// TestFormatGolden pins the file format: files written by one version
// must be read by the next.
func TestFormatGolden(t *testing.T) {
	path := filepath.Join("testdata", "record.golden.json")
	call, deliveries := goldenCall()
	name, data, err := encode(call, deliveries, goldenTime)
	if err != nil {
		t.Fatalf("encode = %v", err)
	}
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("encode =\n%s\nwant (%s)\n%s", data, path, want)
	}
	r, err := decode(name, want)
	if err != nil {
		t.Fatalf("decode(golden) = %v", err)
	}
	if r.Call.Sid != call.Sid || len(r.Deliveries) != 1 || r.Deliveries[0].ID != deliveries[0].ID || !r.SpooledAt.Equal(goldenTime) {
		t.Errorf("decode(golden) = %+v, want call %s with delivery %s spooled at %v", r, call.Sid, deliveries[0].ID, goldenTime)
	}
}

func TestEncodeRefuses(t *testing.T) {
	call, deliveries := goldenCall()
	other := deliveries[0]
	other.CallSid = "CA-other"
	foreignID := deliveries[0]
	foreignID.ID = "CA-other/answered/web"
	nan := deliveries[0]
	ga4 := *nan.GA4
	ga4.Params = map[string]any{"v": func() {}}
	nan.GA4 = &ga4
	tests := []struct {
		name       string
		call       *forwarder.Call
		deliveries []forwarder.Delivery
		want       string
	}{
		{"no call", nil, nil, "no call"},
		{"no Sid", &forwarder.Call{}, nil, "no Sid"},
		{"bad Sid", &forwarder.Call{Sid: "../x"}, nil, "outside"},
		{"delivery of another call", call, []forwarder.Delivery{other}, "belongs to call"},
		{"delivery ID of another call", call, []forwarder.Delivery{foreignID}, "belongs to call"},
		{"unencodable", call, []forwarder.Delivery{nan}, "encode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := encode(tc.call, tc.deliveries, goldenTime)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("encode = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		name, file, data, want string
	}{
		{"not JSON", "c-CA1.json", "{", "decode"},
		{"empty", "c-CA1.json", "", "decode"},
		{"other version", "c-CA1.json", `{"version":2,"call":{"sid":"CA1"}}`, "format version 2"},
		{"no call", "c-CA1.json", `{"version":1}`, "no call"},
		{"renamed", "c-CA2.json", `{"version":1,"call":{"sid":"CA1"}}`, "holds call"},
		{"renamed to another event", "c-CA1@Call.Initiate.json", `{"version":1,"call":{"sid":"CA1","event":"Call.Complete"}}`, "holds call"},
		{"bad event", "c-CA1@x.json", `{"version":1,"call":{"sid":"CA1","event":"../x"}}`, "outside"},
		{"bad Sid", "c-CA1.json", `{"version":1,"call":{"sid":"../CA1"}}`, "outside"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(tc.file, []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decode = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestWriteTemp(t *testing.T) {
	dir := t.TempDir()
	path, err := writeTemp(dir, []byte("data"))
	if err != nil {
		t.Fatalf("writeTemp = %v", err)
	}
	if !strings.HasPrefix(filepath.Base(path), tempPrefix) || filepath.Dir(path) != dir {
		t.Errorf("writeTemp path = %s, want %s%s*", path, filepath.Join(dir, tempPrefix), "")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("temporary file mode = %v, want 0600", perm)
	}
	if _, err := writeTemp(filepath.Join(dir, "missing"), []byte("data")); err == nil {
		t.Error("writeTemp into a missing directory = nil, want an error")
	}
}

// TestDecodeNames: a file is read under its call's name, or under the name
// by Sid alone that files had before the event was part of it.
func TestDecodeNames(t *testing.T) {
	call, deliveries := goldenCall()
	name, data, err := encode(call, deliveries, goldenTime)
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{name, legacyFileName(call.Sid)} {
		r, err := decode(file, data)
		if err != nil || r.Call.Sid != call.Sid {
			t.Errorf("decode(%s) = %v, %v; want the call", file, r.Call, err)
		}
	}
}
