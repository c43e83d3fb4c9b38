package googleads_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
	"github.com/callforward/callforward/forwarder/googleads"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got (JSON) with testdata/name, indented.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("indent %s: %v", got, err)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs (run go test -update if the change is intended)\ngot:\n%s\nwant:\n%s", path, buf.Bytes(), want)
	}
}

// goldenConversions are dated in Sydney time, with a fraction of a second,
// so that the files show the conversion to UTC and the truncation.
func goldenConversions(backend, kind string) []*forwarder.AdsConversion {
	syd := time.FixedZone("AEDT", 11*3600)
	at := time.Date(2026, 11, 3, 19, 4, 5, 678_000_000, syd)
	var out []*forwarder.AdsConversion
	for i, act := range []string{"987654321", "987654321", "123"} {
		d := click(backend, "Cj0KCQgolden"+string(rune('a'+i)))
		if kind == forwarder.AdsCall {
			d = call(backend, "+6141234567"+string(rune('0'+i)))
		}
		a := d.Ads
		a.ConversionAction = act
		a.Time = at.Add(time.Duration(i) * time.Minute)
		if kind == forwarder.AdsCall {
			a.CallStart = at.Add(-5 * time.Minute)
		}
		if i == 1 {
			zero := 0.0
			a.Value, a.AdUserData = &zero, "DENIED"
		}
		if i == 2 {
			a.Value, a.Currency, a.AdUserData = nil, "", ""
		}
		out = append(out, a)
	}
	return out
}

func TestGoldenIngestRequest(t *testing.T) {
	for _, kind := range []string{forwarder.AdsClick, forwarder.AdsCall} {
		t.Run(kind, func(t *testing.T) {
			req := googleads.BuildIngestRequest(goldenConversions(forwarder.AdsBackendDataManager, kind), false)
			b, err := json.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "ingest-"+kind+".golden.json", b)
		})
	}
	t.Run("one action, validate only", func(t *testing.T) {
		convs := goldenConversions(forwarder.AdsBackendDataManager, forwarder.AdsClick)[:1]
		b, err := json.Marshal(googleads.BuildIngestRequest(convs, true))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "ingest-single.golden.json", b)
	})
}

func TestGoldenUploadRequest(t *testing.T) {
	for _, kind := range []string{forwarder.AdsClick, forwarder.AdsCall} {
		t.Run(kind, func(t *testing.T) {
			method, b, err := googleads.BuildUploadRequest(goldenConversions(forwarder.AdsBackendGoogleAdsAPI, kind), false)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{forwarder.AdsClick: "uploadClickConversions", forwarder.AdsCall: "uploadCallConversions"}[kind]
			if method != want {
				t.Errorf("method %s, want %s", method, want)
			}
			golden(t, "upload-"+kind+".golden.json", b)
		})
	}
}

func TestAdsDateTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC), "2026-11-03 08:00:00+00:00"},
		{time.Date(2026, 11, 3, 19, 4, 5, 999_999_999, time.FixedZone("AEDT", 11*3600)), "2026-11-03 08:04:05+00:00"},
		{time.Date(2026, 1, 1, 0, 30, 0, 0, time.FixedZone("NST", -(3*3600+1800))), "2026-01-01 04:00:00+00:00"},
	}
	for _, tt := range tests {
		if got := googleads.AdsDateTime(tt.in); got != tt.want {
			t.Errorf("AdsDateTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
