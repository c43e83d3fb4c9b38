package ga4

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
		want     []ValidationMessage
		wantCode string // "" means no error
	}{
		{name: "valid", status: 200, body: `{"validationMessages":[]}`, want: []ValidationMessage{}},
		{name: "findings", status: 200,
			body: `{"validationMessages":[{"fieldPath":"events[0].name","description":"Event name is reserved.","validationCode":"NAME_RESERVED"}]}`,
			want: []ValidationMessage{{FieldPath: "events[0].name", Description: "Event name is reserved.", ValidationCode: "NAME_RESERVED"}}},
		{name: "unreadable reply", status: 200, body: `<html>`, wantCode: "bad_reply"},
		{name: "server error", status: 503, wantCode: "http_503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var path string
			var body []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path = r.URL.Path
				body, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()

			d := testDelivery(nil)
			got, err := newTestSender(srv.URL, nil).Validate(context.Background(), d)
			if path != "/debug/mp/collect" {
				t.Errorf("path: want /debug/mp/collect, got %q", path)
			}
			if want, _ := BuildPayload(d, testNow); string(body) != string(want) {
				t.Errorf("body: want the payload Send posts\nwant: %s\ngot:  %s", want, body)
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

func TestValidationMessageString(t *testing.T) {
	m := ValidationMessage{FieldPath: "client_id", Description: "Required.", ValidationCode: "VALUE_REQUIRED"}
	if got, want := m.String(), "VALUE_REQUIRED client_id: Required."; got != want {
		t.Errorf("String: want %q, got %q", want, got)
	}
}
