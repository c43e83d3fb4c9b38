package webhook

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// sample is one request from testdata, as the platform would send it.
type sample struct {
	name        string
	method      string
	contentType string
	rawQuery    string
	body        []byte
}

// loadSamples reads the sample webhooks: *.form are POST form bodies,
// *.query GET query strings, *.json POST JSON bodies.
func loadSamples(tb testing.TB) []sample {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []sample
	for _, path := range paths {
		base := filepath.Base(path)
		if strings.HasSuffix(base, ".golden.json") {
			continue
		}
		ext := filepath.Ext(base)
		s := sample{name: strings.TrimSuffix(base, ext)}
		switch ext {
		case ".form":
			s.method, s.contentType = http.MethodPost, "application/x-www-form-urlencoded"
		case ".query":
			s.method = http.MethodGet
		case ".json":
			s.method, s.contentType = http.MethodPost, "application/json"
		default:
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		if s.method == http.MethodGet {
			s.rawQuery = strings.TrimSpace(string(data))
		} else {
			s.body = data
		}
		out = append(out, s)
	}
	if len(out) < 5 {
		tb.Fatalf("found %d samples in testdata, want at least 5", len(out))
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, s := range loadSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			params, err := Params(s.method, s.contentType, s.rawQuery, s.body)
			if err != nil {
				t.Fatalf("Params: %v", err)
			}
			call, err := Decode(params)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got, err := json.MarshalIndent(call, "", "  ")
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", s.name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Call differs from %s (run go test -update if the change is intended)\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}
