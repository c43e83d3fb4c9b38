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

// ingestBody is the events:ingest body the sender writes for convs,
// after checking that it is the generated client's, byte for byte.
func ingestBody(t *testing.T, convs []*forwarder.AdsConversion, validateOnly bool) []byte {
	t.Helper()
	want, err := json.Marshal(googleads.BuildIngestRequest(convs, validateOnly))
	if err != nil {
		t.Fatal(err)
	}
	got, err := googleads.AppendIngestRequest(nil, convs, validateOnly)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendIngestRequest differs from the client's encoding\ngot:  %s\nwant: %s", got, want)
	}
	return got
}

func TestGoldenIngestRequest(t *testing.T) {
	for _, kind := range []string{forwarder.AdsClick, forwarder.AdsCall} {
		t.Run(kind, func(t *testing.T) {
			convs := goldenConversions(forwarder.AdsBackendDataManager, kind)
			golden(t, "ingest-"+kind+".golden.json", ingestBody(t, convs, false))
		})
	}
	t.Run("one action, validate only", func(t *testing.T) {
		convs := goldenConversions(forwarder.AdsBackendDataManager, forwarder.AdsClick)[:1]
		golden(t, "ingest-single.golden.json", ingestBody(t, convs, true))
	})
	t.Run("texts to escape", func(t *testing.T) {
		// What the text cleaning leaves and JSON escapes: quotes,
		// backslash, HTML characters, U+2028 and U+2029; and the value
		// forms of encoding/json.
		convs := goldenConversions(forwarder.AdsBackendDataManager, forwarder.AdsClick)
		convs[0].TransactionID = `order "7" \ <b>&amp;</b> é 日本 🎉 ` + "\u2028\u2029"
		big, tiny := 1e21, 1e-7
		convs[0].Value, convs[2].Value, convs[2].Currency = &big, &tiny, "EUR"
		golden(t, "ingest-escapes.golden.json", ingestBody(t, convs, false))
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
