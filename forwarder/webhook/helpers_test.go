package webhook

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"testing"

	"github.com/callforward/callforward/forwarder"
)

// request is the part of an HTTP request Params reads.
type request struct {
	method      string
	contentType string
	rawQuery    string
	body        []byte
}

const formType = "application/x-www-form-urlencoded"

// decodeRequest runs both steps, as the HTTP layer does.
func decodeRequest(r request) (*forwarder.Call, error) {
	params, err := Params(r.method, r.contentType, r.rawQuery, r.body)
	if err != nil {
		return nil, err
	}
	return Decode(params)
}

// baseForm is a minimal valid Call.Complete.
func baseForm() url.Values {
	return url.Values{
		"Action":         {"Webhook"},
		"Event":          {"Call.Complete"},
		"Call.Sid":       {"CA0e8f9a7b"},
		"Call.StartDate": {"2026-11-25 23:41:07"},
		"Call.Duration":  {"187"},
	}
}

// formRequest is a POST form of baseForm changed by edit.
func formRequest(edit func(url.Values)) request {
	v := baseForm()
	if edit != nil {
		edit(v)
	}
	return request{method: http.MethodPost, contentType: formType, body: []byte(v.Encode())}
}

// jsonRequest is a POST JSON object: a valid Call.Initiate (no duration
// needed) followed by members, a comma-led list of extra JSON members.
func jsonRequest(members string) request {
	body := `{"Action":"Webhook","Event":"Call.Initiate","Call.Sid":"CA1","Call.StartDate":"2026-11-25 23:41:07"` + members + `}`
	return request{method: http.MethodPost, contentType: "application/json", body: []byte(body)}
}

// part is one multipart part; a non-empty file makes it a file upload.
type part struct{ name, file, value string }

// multipartRequest is a POST multipart/form-data body of parts.
func multipartRequest(t *testing.T, parts ...part) request {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		var err error
		var fw io.Writer
		if p.file != "" {
			fw, err = w.CreateFormFile(p.name, p.file)
		} else {
			fw, err = w.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write([]byte(p.value)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return request{method: http.MethodPost, contentType: w.FormDataContentType(), body: buf.Bytes()}
}
