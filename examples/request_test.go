package examples

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSamplesRequests(t *testing.T) {
	names, err := fs.Glob(FS, "webhooks/*")
	if err != nil || len(names) < 5 {
		t.Fatalf("samples = %v (%v), want at least 5", names, err)
	}
	at := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			body, err := FS.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			body, err = Set(name, body, map[string]string{"Call.StartDate": StartDate(at)})
			if err != nil {
				t.Fatalf("Set: %v", err)
			}
			req, err := NewRequest(context.Background(), "http://x/webhooks/fonedynamics", "tok", name, body)
			if err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("Authorization"); got != "Bearer tok" {
				t.Errorf("Authorization = %q", got)
			}
			var sent string
			if req.Method == http.MethodGet {
				sent = req.URL.RawQuery
			} else {
				b, _ := io.ReadAll(req.Body)
				sent = string(b)
			}
			for _, want := range []string{"2027-01-02", "Call.Sid"} {
				if !strings.Contains(sent, want) {
					t.Errorf("%s request %q lacks %q", req.Method, sent, want)
				}
			}
			if wantGet := strings.HasSuffix(name, ".query"); wantGet != (req.Method == http.MethodGet) {
				t.Errorf("method %s for %s", req.Method, name)
			}
		})
	}
}
