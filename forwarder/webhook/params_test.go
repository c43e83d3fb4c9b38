package webhook

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  request
		want url.Values
	}{
		{
			name: "GET reads the query and ignores any body",
			req:  request{method: http.MethodGet, contentType: formType, rawQuery: "Call.Sid=CA1&Event=Call.Complete", body: []byte("Call.Sid=CA2")},
			want: url.Values{"Call.Sid": {"CA1"}, "Event": {"Call.Complete"}},
		},
		{
			name: "POST merges the query, the body wins",
			req:  request{method: http.MethodPost, contentType: formType, rawQuery: "Call.Sid=CA1&Property.Sid=PR1", body: []byte("Call.Sid=CA2&Event=Call.Complete")},
			want: url.Values{"Call.Sid": {"CA2"}, "Property.Sid": {"PR1"}, "Event": {"Call.Complete"}},
		},
		{
			name: "POST body key replaces all the query's values of that key",
			req:  request{method: http.MethodPost, contentType: formType, rawQuery: "Call.Sid=CA1&Call.Sid=CA3", body: []byte("Call.Sid=CA2")},
			want: url.Values{"Call.Sid": {"CA2"}},
		},
		{
			name: "POST with an empty body falls back to the query",
			req:  request{method: http.MethodPost, contentType: formType, rawQuery: "Call.Sid=CA1"},
			want: url.Values{"Call.Sid": {"CA1"}},
		},
		{
			name: "POST with a blank body and no content type falls back to the query",
			req:  request{method: http.MethodPost, rawQuery: "Call.Sid=CA1", body: []byte(" \r\n")},
			want: url.Values{"Call.Sid": {"CA1"}},
		},
		{
			name: "POST with an empty JSON body falls back to the query",
			req:  request{method: http.MethodPost, contentType: "application/json", rawQuery: "Call.Sid=CA1"},
			want: url.Values{"Call.Sid": {"CA1"}},
		},
		{
			name: "token removed from a GET",
			req:  request{method: http.MethodGet, rawQuery: "token=s3cret&Call.Sid=CA1"},
			want: url.Values{"Call.Sid": {"CA1"}},
		},
		{
			name: "token removed from the query of a POST",
			req:  request{method: http.MethodPost, contentType: formType, rawQuery: "token=s3cret", body: []byte("Call.Sid=CA1")},
			want: url.Values{"Call.Sid": {"CA1"}},
		},
		{
			name: "token removed from a form body",
			req:  request{method: http.MethodPost, contentType: formType, body: []byte("Call.Sid=CA1&token=s3cret")},
			want: url.Values{"Call.Sid": {"CA1"}},
		},
		{
			name: "token removed from a JSON body",
			req:  request{method: http.MethodPost, contentType: "application/json", body: []byte(`{"Call.Sid":"CA1","token":"s3cret"}`)},
			want: url.Values{"Call.Sid": {"CA1"}},
		},
		{
			name: "Token in another case is an ordinary parameter",
			req:  request{method: http.MethodGet, rawQuery: "Token=x"},
			want: url.Values{"Token": {"x"}},
		},
		{
			name: "content type parameters and case",
			req:  request{method: http.MethodPost, contentType: "Application/X-WWW-Form-Urlencoded; charset=UTF-8", body: []byte("Call.Sid=CA1")},
			want: url.Values{"Call.Sid": {"CA1"}},
		},
		{
			name: "unencoded plus decodes to a space, repaired later by Decode",
			req:  request{method: http.MethodGet, rawQuery: "Call.From=+61412345678"},
			want: url.Values{"Call.From": {" 61412345678"}},
		},
		{
			name: "repeated values are kept for Decode to judge",
			req:  request{method: http.MethodPost, contentType: formType, body: []byte("Call.Sid=CA1&Call.Sid=CA2")},
			want: url.Values{"Call.Sid": {"CA1", "CA2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Params(tt.req.method, tt.req.contentType, tt.req.rawQuery, tt.req.body)
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParamsMultipart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		parts   []part
		query   string
		want    url.Values
		wantErr string
	}{
		{
			name:  "fields",
			parts: []part{{name: "Call.Sid", value: "CA1"}, {name: "Call.To.Name", value: "Website - Google Ads"}},
			want:  url.Values{"Call.Sid": {"CA1"}, "Call.To.Name": {"Website - Google Ads"}},
		},
		{
			name:  "query merged and token removed",
			parts: []part{{name: "Call.Sid", value: "CA1"}, {name: "token", value: "s3cret"}},
			query: "Property.Sid=PR1&Call.Sid=CA9&token=t",
			want:  url.Values{"Call.Sid": {"CA1"}, "Property.Sid": {"PR1"}},
		},
		{
			name:  "value cut just past the limit, for Decode to reject",
			parts: []part{{name: "Call.To.Name", value: strings.Repeat("x", 10000)}},
			want:  url.Values{"Call.To.Name": {strings.Repeat("x", maxValueLen+1)}},
		},
		{
			name:    "file part",
			parts:   []part{{name: "upload", file: "a.txt", value: "x"}},
			wantErr: "upload: file parts are not supported",
		},
		{
			name:    "too many parts",
			parts:   manyParts(maxParams + 1),
			wantErr: "body: more than 256 parameters",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := multipartRequest(t, tt.parts...)
			got, err := Params(req.method, req.contentType, tt.query, req.body)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func manyParts(n int) []part {
	parts := make([]part, n)
	for i := range parts {
		parts[i] = part{name: "X." + strings.Repeat("a", i%50) + string(rune('A'+i%26)), value: "1"}
	}
	return parts
}

func TestParamsMalformedMultipart(t *testing.T) {
	t.Parallel()
	_, err := Params(http.MethodPost, "multipart/form-data; boundary=XYZ", "", []byte("--XYZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"))
	if err == nil || !strings.HasPrefix(err.Error(), "body: malformed multipart body") {
		t.Errorf("got %v, want a malformed multipart body error", err)
	}
}

func TestParamsMethod(t *testing.T) {
	t.Parallel()
	_, err := Params(http.MethodPut, formType, "", []byte("a=b"))
	if err == nil || !strings.Contains(err.Error(), `unsupported method "PUT"`) {
		t.Errorf("got %v, want an unsupported method error", err)
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		t.Errorf("got a FieldError %v for a caller bug, want a plain error", fe)
	}
}
