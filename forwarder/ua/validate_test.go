package ua

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/callforward/callforward/forwarder"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		want     ValidationResult
		wantCode string // "" means no error
	}{
		{name: "valid", status: 200,
			body: `{"hitParsingResult":[{"valid":true,"hit":"/debug/collect?v=1","parserMessage":[]}],"parserMessage":[{"messageType":"INFO","description":"Found 1 hit in the request."}]}`,
			want: ValidationResult{Valid: true, Messages: []ParserMessage{}}},
		{name: "valid without messages", status: 200, body: `{"hitParsingResult":[{"valid":true}]}`,
			want: ValidationResult{Valid: true, Messages: []ParserMessage{}}},
		{name: "findings", status: 200,
			body: `{"hitParsingResult":[{"valid":false,"parserMessage":[{"messageType":"ERROR","messageCode":"VALUE_INVALID","description":"The value provided for parameter 'tid' is invalid.","parameter":"tid"}]}]}`,
			want: ValidationResult{Messages: []ParserMessage{{MessageType: "ERROR", MessageCode: "VALUE_INVALID",
				Description: "The value provided for parameter 'tid' is invalid.", Parameter: "tid"}}}},
		{name: "unreadable reply", status: 200, body: `GIF89a`, wantCode: "bad_reply"},
		{name: "no hit result", status: 200, body: `{"hitParsingResult":[]}`, wantCode: "bad_reply"},
		{name: "server error", status: 503, wantCode: "http_503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path = r.URL.Path
				body, _ = io.ReadAll(r.Body)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()

			d := testDelivery(nil)
			got, err := newTestSender(srv.URL, nil).Validate(context.Background(), d)
			if path != "/debug/collect" {
				t.Errorf("path: want /debug/collect, got %q", path)
			}
			if want, _ := BuildPayload(d, testNow); string(body) != encode(want) {
				t.Errorf("body: want the payload Send posts\nwant: %s\ngot:  %s", encode(want), body)
			}
			assertNoLeak(t, err)
			if tt.wantCode != "" {
				if se := forwarder.Classify(err); err == nil || se.Code != tt.wantCode {
					t.Fatalf("Validate: want error %q, got %v", tt.wantCode, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: want no error, got %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate: want %#v, got %#v", tt.want, got)
			}
		})
	}
}

func TestParserMessageString(t *testing.T) {
	m := ParserMessage{MessageType: "ERROR", Parameter: "tid", Description: "Invalid."}
	if got, want := m.String(), "ERROR tid: Invalid."; got != want {
		t.Errorf("String: want %q, got %q", want, got)
	}
}
