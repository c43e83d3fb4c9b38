package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/httpapi"
)

// Personal data and credentials used by the hostile requests: none of them
// may appear in the logs.
const (
	hostilePhone    = "+61412345678"
	hostileTo       = "+61298765432"
	hostileClientID = "1873452911.1764110422"
	hostileGCLID    = "Cj0KCQhostileGCLIDvalue42"
	bodyOnlyToken   = "token-in-the-body-only-zzzzzz"
)

// hostileForm is a valid Call.Complete for sid with edits applied: pairs
// of name and value, a value of "-" deleting the parameter.
func hostileForm(sid string, edits ...string) url.Values {
	v := validForm(sid)
	v.Set("Call.To", hostileTo)
	v.Set("Google.AdWords.ClickId", hostileGCLID)
	for i := 0; i+1 < len(edits); i += 2 {
		if edits[i+1] == "-" {
			v.Del(edits[i])
			continue
		}
		v.Set(edits[i], edits[i+1])
	}
	return v
}

func formBody(sid string, edits ...string) []byte {
	return []byte(hostileForm(sid, edits...).Encode())
}

// jsonBody is hostileForm as a JSON object, with extra members (raw JSON
// text, e.g. `"Call.Duration": true`) replacing or following the others.
func jsonBody(sid string, extra ...string) []byte {
	v := hostileForm(sid)
	m := map[string]string{}
	for k := range v {
		m[k] = v.Get(k)
	}
	for _, e := range extra {
		var one map[string]json.RawMessage
		if json.Unmarshal([]byte("{"+e+"}"), &one) == nil {
			for k := range one {
				delete(m, k)
			}
		}
	}
	b, _ := json.Marshal(m)
	out := string(b[:len(b)-1])
	for _, e := range extra {
		out += "," + e
	}
	return []byte(out + "}")
}

func multipartBody(t *testing.T, sid string, file bool) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range hostileForm(sid) {
		mw.WriteField(k, v[0])
	}
	if file {
		w, err := mw.CreateFormFile("Call.Recording", "call.wav")
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("RIFF....WAVE"))
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// padTo appends unknown parameters to a form body until it is exactly n
// bytes long.
func padTo(t *testing.T, body []byte, n int) []byte {
	t.Helper()
	b := append([]byte(nil), body...)
	for i := 0; len(b) < n; i++ {
		name := fmt.Sprintf("&Pad.P%d=", i)
		room := n - len(b) - len(name)
		if room < 0 {
			t.Fatalf("cannot pad %d bytes to exactly %d", len(b), n)
		}
		b = append(b, name...)
		b = append(b, bytes.Repeat([]byte("x"), min(room, 4000))...)
	}
	return b
}

// droppedFields returns the fields a reply's "dropped" list names,
// space-separated, checking that each says why.
func droppedFields(reply map[string]any) string {
	list, _ := reply["dropped"].([]any)
	var out []string
	for _, x := range list {
		m, _ := x.(map[string]any)
		field, _ := m["field"].(string)
		if reason, _ := m["reason"].(string); reason == "" {
			field += "(no reason)"
		}
		out = append(out, field)
	}
	return strings.Join(out, " ")
}

// gz compresses b with gzip.
func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func nested(depth int) []byte {
	return []byte(strings.Repeat(`{"a":`, depth) + `"x"` + strings.Repeat("}", depth))
}

func manyParams(sid string, n int) []byte {
	v := hostileForm(sid)
	for i := len(v); i < n; i++ {
		v.Set(fmt.Sprintf("Extra.P%d", i), "1")
	}
	return []byte(v.Encode())
}

// TestHostileRequests sends requests a careless or malicious client could
// send to the real handler over the real store, and checks the exact
// status, the field named, that nothing was stored twice, that nothing
// panicked, and that no personal data or token reached the logs.
func TestHostileRequests(t *testing.T) {
	f := newFixture(t)
	addr := hostAddr(f.srv.URL)

	longToken := strings.Repeat("t", 10<<10+1)
	bearerA := "Authorization: Bearer " + tokenA
	const (
		form = "Content-Type: application/x-www-form-urlencoded"
		js   = "Content-Type: application/json"
	)
	mpFile, mpFileCT := multipartBody(t, "CAh-mpfile", true)
	mpOK, mpOKCT := multipartBody(t, "CAh-multipart", false)
	exact := padTo(t, formBody("CAh-exact"), httpapi.DefaultMaxBody)
	over := padTo(t, formBody("CAh-over"), httpapi.DefaultMaxBody+1)
	long5000 := strings.Repeat("v", 5000)

	tests := []struct {
		name string
		req  rawRequest
		// want is the status; field the "field" of a 4xx reply ("" for
		// none); reply, for a 200, the "status" of the reply.
		want  int
		field string
		reply string
		// sid is the call id a 200 stored (accepted or ignored).
		sid string
		// dropped is the one optional field a 200 says it dropped.
		dropped string
	}{
		// Wrong types and out-of-range values.
		{name: "duration is a JSON string", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-t1", `"Call.Duration":"abc"`)}, want: 400, field: "Call.Duration"},
		{name: "duration is a JSON bool", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-t2", `"Call.Duration":true`)}, want: 400, field: "Call.Duration"},
		{name: "duration is a JSON array", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-t3", `"Call.Duration":[75]`)}, want: 400, field: "Call.Duration"},
		{name: "duration is a fraction", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-t4", `"Call.Duration":75.5`)}, want: 400, field: "Call.Duration"},
		{name: "duration 1e400", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-t5", `"Call.Duration":1e400`)}, want: 400, field: "Call.Duration"},
		{name: "duration 2^63", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-t6", "Call.Duration", "9223372036854775808")}, want: 400, field: "Call.Duration"},
		{name: "negative duration", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-t7", "Call.Duration", "-1")}, want: 400, field: "Call.Duration"},
		{name: "call id is a JSON object", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-t8", `"Call.Sid":{"x":"1"}`)}, want: 400, field: "Call.Sid"},
		{name: "call id is a JSON null", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-t9", `"Call.Sid":null`)}, want: 400, field: "Call.Sid"},
		{name: "call id is a JSON number", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("x", `"Call.Sid":4815162342`)}, want: 200, reply: "accepted", sid: "4815162342"},
		{name: "5000-byte known value", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-v1", "Property.Name", long5000)}, want: 200, reply: "accepted", sid: "CAh-v1", dropped: "Property.Name"},
		{name: "5000-byte unknown value", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-v2", "Custom.Note", long5000)}, want: 200, reply: "accepted", sid: "CAh-v2", dropped: "Custom.Note"},
		{name: "5000-byte call id", req: rawRequest{headers: []string{bearerA, form}, body: formBody(long5000)}, want: 400, field: "Call.Sid"},
		{name: "200-byte parameter name", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-v3", strings.Repeat("N", 200), "1")}, want: 400, field: "body"},
		{name: "empty parameter name", req: rawRequest{headers: []string{bearerA, form}, body: append(formBody("CAh-v4"), "&=x"...)}, want: 400, field: "body"},

		// Encodings.
		{name: "invalid UTF-8 in a name", req: rawRequest{headers: []string{bearerA, form}, body: append(formBody("CAh-u1"), "&%FF%FE=1"...)}, want: 400, field: "\uFFFD"},
		{name: "invalid UTF-8 in a value", req: rawRequest{headers: []string{bearerA, form}, body: append(formBody("CAh-u2", "Property.Name", "-"), "&Property.Name=%C3%28"...)}, want: 200, reply: "accepted", sid: "CAh-u2", dropped: "Property.Name"},
		{name: "invalid UTF-8 in the event", req: rawRequest{headers: []string{bearerA, form}, body: append(formBody("CAh-u6", "Event", "-"), "&Event=%C3%28"...)}, want: 400, field: "Event"},
		{name: "invalid UTF-8 in a JSON body", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-u3", "\"Property.Name\":\"\xff\"")}, want: 400, field: "body"},
		{name: "malformed percent-encoding", req: rawRequest{headers: []string{bearerA, form}, body: append(formBody("CAh-u4"), "&Property.Name=%zz"...)}, want: 400, field: "body"},
		{name: "semicolon separator in the query", req: rawRequest{target: httpapi.WebhookPath + "?a=1;b=2", headers: []string{bearerA, form}, body: formBody("CAh-u5")}, want: 400, field: "body"},
		{name: "null byte in the call id", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-n1\x00x")}, want: 400, field: "Call.Sid"},
		{name: "null byte in free text is kept", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-n2", "Property.Name", "Shop\x00Front")}, want: 200, reply: "accepted", sid: "CAh-n2"},
		{name: "CRLF in the call id", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-c1\r\nX-Injected: yes")}, want: 400, field: "Call.Sid"},
		{name: "CRLF in a disposition is kept, not a header", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-c2", "Call.Disposition", "ANSWERED\r\nX-Injected: yes")}, want: 200, reply: "accepted", sid: "CAh-c2"},

		// Duplicates.
		{name: "form key twice with different values", req: rawRequest{headers: []string{bearerA, form}, body: append(formBody("CAh-d1"), "&Call.Duration=76"...)}, want: 400, field: "Call.Duration"},
		{name: "form key twice with the same value", req: rawRequest{headers: []string{bearerA, form}, body: append(formBody("CAh-d2"), "&Call.Duration=75"...)}, want: 200, reply: "accepted", sid: "CAh-d2"},
		{name: "JSON key twice with different values", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-d3", `"Call.Duration":75`, `"Call.Duration":76`)}, want: 400, field: "Call.Duration"},
		{name: "body and query disagree: the body wins", req: rawRequest{target: httpapi.WebhookPath + "?Call.Sid=CAh-d4-query", headers: []string{bearerA, form}, body: formBody("CAh-d4")}, want: 200, reply: "accepted", sid: "CAh-d4"},
		{name: "the same call again", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-d4")}, want: 200, reply: "duplicate"},

		// Content types and body shapes.
		{name: "JSON body with a form content type", req: rawRequest{headers: []string{bearerA, form}, body: jsonBody("CAh-m1")}, want: 400, field: "body"},
		{name: "form body with a JSON content type", req: rawRequest{headers: []string{bearerA, js}, body: formBody("CAh-m2")}, want: 400, field: "body"},
		{name: "multipart with a file part", req: rawRequest{headers: []string{bearerA, "Content-Type: " + mpFileCT}, body: mpFile}, want: 400, field: "Call.Recording"},
		{name: "multipart fields", req: rawRequest{headers: []string{bearerA, "Content-Type: " + mpOKCT}, body: mpOK}, want: 200, reply: "accepted", sid: "CAh-multipart"},
		{name: "multipart without a boundary", req: rawRequest{headers: []string{bearerA, "Content-Type: multipart/form-data"}, body: mpOK}, want: 415, field: "Content-Type"},
		{name: "JSON nested 100 deep", req: rawRequest{headers: []string{bearerA, js}, body: nested(100)}, want: 400, field: "body"},
		{name: "JSON with trailing garbage", req: rawRequest{headers: []string{bearerA, js}, body: append(jsonBody("CAh-m3"), " x"...)}, want: 400, field: "body"},
		{name: "two JSON objects", req: rawRequest{headers: []string{bearerA, js}, body: append(jsonBody("CAh-m4"), "{}"...)}, want: 400, field: "body"},
		{name: "JSON array body", req: rawRequest{headers: []string{bearerA, js}, body: []byte(`[{"Call.Sid":"CAh-m5"}]`)}, want: 400, field: "body"},
		{name: "300 parameters", req: rawRequest{headers: []string{bearerA, form}, body: manyParams("CAh-m6", 300)}, want: 400, field: "body"},
		{name: "charset latin1", req: rawRequest{headers: []string{bearerA, form + "; charset=latin1"}, body: formBody("CAh-m7")}, want: 415, field: "Content-Type"},
		{name: "charset utf-8 is fine", req: rawRequest{headers: []string{bearerA, form + "; charset=UTF-8"}, body: formBody("CAh-m8")}, want: 200, reply: "accepted", sid: "CAh-m8"},
		{name: "no content type with a body", req: rawRequest{headers: []string{bearerA}, body: formBody("CAh-m9")}, want: 415, field: "Content-Type"},
		{name: "text/xml", req: rawRequest{headers: []string{bearerA, "Content-Type: text/xml"}, body: []byte("<call/>")}, want: 415, field: "Content-Type"},
		{name: "malformed content type", req: rawRequest{headers: []string{bearerA, "Content-Type: application/json; charset"}, body: jsonBody("CAh-m10")}, want: 415, field: "Content-Type"},
		{name: "empty POST body with the call in the query", req: rawRequest{target: httpapi.WebhookPath + "?" + hostileForm("CAh-m11").Encode(), headers: []string{bearerA, form}}, want: 200, reply: "accepted", sid: "CAh-m11"},

		// Sizes.
		{name: "body exactly the limit", req: rawRequest{headers: []string{bearerA, form}, body: exact}, want: 200, reply: "accepted", sid: "CAh-exact"},
		{name: "body one byte over the limit", req: rawRequest{headers: []string{bearerA, form}, body: over}, want: 413, field: "body"},
		{name: "chunked body within the limit", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-chunked"), chunked: true}, want: 200, reply: "accepted", sid: "CAh-chunked"},
		{name: "chunked body over the limit", req: rawRequest{headers: []string{bearerA, form}, body: over, chunked: true}, want: 413, field: "body"},
		{name: "declared length over the limit, body never sent", req: rawRequest{headers: []string{bearerA, form, "Expect: 100-continue"}, length: 1 << 30}, want: 413, field: "body"},

		// Content encodings: gzip is decoded within the size limit, which
		// applies to the decoded body; other encodings are refused.
		{name: "gzip body", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: gzip"}, body: gz(formBody("CAh-z1"))}, want: 200, reply: "accepted", sid: "CAh-z1"},
		{name: "x-gzip body", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: x-gzip"}, body: gz(formBody("CAh-z2"))}, want: 200, reply: "accepted", sid: "CAh-z2"},
		{name: "gzip JSON body, chunked", req: rawRequest{headers: []string{bearerA, js, "Content-Encoding: GZIP"}, body: gz(jsonBody("CAh-z3")), chunked: true}, want: 200, reply: "accepted", sid: "CAh-z3"},
		{name: "gzip body decoding to exactly the limit", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: gzip"}, body: gz(padTo(t, formBody("CAh-z4"), httpapi.DefaultMaxBody))}, want: 200, reply: "accepted", sid: "CAh-z4"},
		{name: "gzip body decoding to one byte over the limit", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: gzip"}, body: gz(padTo(t, formBody("CAh-z5"), httpapi.DefaultMaxBody+1))}, want: 413, field: "body"},
		{name: "gzip bomb", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: gzip"}, body: gz(append(formBody("CAh-z6"), make([]byte, 32<<20)...))}, want: 413, field: "body"},
		{name: "gzip header on a plain body", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: gzip"}, body: formBody("CAh-z7")}, want: 400, field: "Content-Encoding"},
		{name: "truncated gzip body", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: gzip"}, body: gz(formBody("CAh-z8"))[:40]}, want: 400, field: "Content-Encoding"},
		{name: "identity encoding", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: identity"}, body: formBody("CAh-z9")}, want: 200, reply: "accepted", sid: "CAh-z9"},
		{name: "brotli body", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: br"}, body: formBody("CAh-z10")}, want: 415, field: "Content-Encoding"},
		{name: "deflate body", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: deflate"}, body: formBody("CAh-z11")}, want: 415, field: "Content-Encoding"},
		{name: "gzip twice", req: rawRequest{headers: []string{bearerA, form, "Content-Encoding: gzip, gzip"}, body: gz(gz(formBody("CAh-z12")))}, want: 415, field: "Content-Encoding"},

		// Paths: one spelling only.
		{name: "trailing slash", req: rawRequest{target: httpapi.WebhookPath + "/", headers: []string{bearerA, form}, body: formBody("CAh-p1")}, want: 404},
		{name: "double leading slash", req: rawRequest{target: "/" + httpapi.WebhookPath, headers: []string{bearerA, form}, body: formBody("CAh-p2")}, want: 404},
		{name: "dot-dot segment", req: rawRequest{target: httpapi.WebhookPath + "/../healthz", headers: []string{bearerA, form}, body: formBody("CAh-p3")}, want: 404},
		{name: "percent-encoded letter", req: rawRequest{target: "/webhooks/%66onedynamics", headers: []string{bearerA, form}, body: formBody("CAh-p4")}, want: 404},
		{name: "percent-encoded slash", req: rawRequest{target: "/webhooks%2Ffonedynamics", headers: []string{bearerA, form}, body: formBody("CAh-p5")}, want: 404},
		{name: "trailing dot", req: rawRequest{target: httpapi.WebhookPath + ".", headers: []string{bearerA, form}, body: formBody("CAh-p6")}, want: 404},
		{name: "upper case", req: rawRequest{target: strings.ToUpper(httpapi.WebhookPath), headers: []string{bearerA, form}, body: formBody("CAh-p7")}, want: 404},
		{name: "absolute-form target", req: rawRequest{target: "http://callforward.test" + httpapi.WebhookPath, headers: []string{bearerA, form}, body: formBody("CAh-p8")}, want: 200, reply: "accepted", sid: "CAh-p8"},

		// Methods.
		{name: "HEAD", req: rawRequest{method: http.MethodHead, headers: []string{bearerA}}, want: 405},
		{name: "OPTIONS", req: rawRequest{method: http.MethodOptions, headers: []string{bearerA}}, want: 405},
		{name: "PUT", req: rawRequest{method: http.MethodPut, headers: []string{bearerA, form}, body: formBody("CAh-x1")}, want: 405},
		{name: "DELETE", req: rawRequest{method: http.MethodDelete, headers: []string{bearerA}}, want: 405},
		{name: "TRACE", req: rawRequest{method: "TRACE", headers: []string{bearerA}}, want: 405},
		{name: "PATCH", req: rawRequest{method: http.MethodPatch, headers: []string{bearerA, form}, body: formBody("CAh-x2")}, want: 405},
		{name: "made-up method", req: rawRequest{method: "FONEDYNAMICS", headers: []string{bearerA, form}, body: formBody("CAh-x3")}, want: 405},

		// Credentials.
		{name: "token in the body only", req: rawRequest{headers: []string{form}, body: formBody("CAh-a1", "token", tokenA)}, want: 401},
		{name: "unknown token in the body only", req: rawRequest{headers: []string{form}, body: formBody("CAh-a2", "token", bodyOnlyToken)}, want: 401},
		{name: "token longer than 10 KiB", req: rawRequest{headers: []string{"Authorization: Bearer " + longToken, form}, body: formBody("CAh-a3")}, want: 401},
		{name: "unknown authorization scheme", req: rawRequest{headers: []string{"Authorization: Token " + tokenA, form}, body: formBody("CAh-a4")}, want: 401},
		{name: "basic auth with malformed base64", req: rawRequest{headers: []string{"Authorization: Basic !!" + tokenA + "!!", form}, body: formBody("CAh-a5")}, want: 401},
		{name: "basic auth without a colon", req: rawRequest{headers: []string{"Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(tokenA)), form}, body: formBody("CAh-a6")}, want: 401},
		{name: "bearer with nothing after it", req: rawRequest{headers: []string{"Authorization: Bearer ", form}, body: formBody("CAh-a7")}, want: 401},
		{name: "a wrong bearer is not rescued by a right query token", req: rawRequest{target: httpapi.WebhookPath + "?token=" + tokenA, headers: []string{"Authorization: Bearer nope", form}, body: formBody("CAh-a8")}, want: 401},
		{name: "the first of two Authorization headers counts", req: rawRequest{headers: []string{"Authorization: Bearer nope", bearerA, form}, body: formBody("CAh-a9")}, want: 401},
		{name: "percent-encoded token parameter name", req: rawRequest{target: httpapi.WebhookPath + "?tok%65n=" + tokenA + "&Bad.Name=%zz", headers: []string{form}, body: formBody("CAh-a10")}, want: 400, field: "body"},
		{name: "a token repeated in a refused body is not kept", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-a11", "token", tokenA, "Call.Duration", "abc")}, want: 400, field: "Call.Duration"},
		{name: "a token repeated in a refused JSON body is not kept", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-a12", `"token":"`+tokenA+`"`, `"Call.Duration":"abc"`)}, want: 400, field: "Call.Duration"},

		// Field values the decoder must refuse or keep.
		{name: "unknown event of the form Word.Word is kept", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-e1", "Event", "Call.Transferred")}, want: 200, reply: "ignored", sid: "CAh-e1"},
		{name: "event without a dot", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-e2", "Event", "Complete")}, want: 400, field: "Event"},
		{name: "event with three parts", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-e3", "Event", "Call.Complete.Now")}, want: 400, field: "Event"},
		{name: "event with non-ASCII letters", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-e4", "Event", "Call.Cómplete")}, want: 400, field: "Event"},
		{name: "action not Webhook", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-e5", "Action", "Ping")}, want: 400, field: "Action"},
		{name: "call id with a slash", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh/e6")}, want: 400, field: "Call.Sid"},
		{name: "call id with a space inside", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh e7")}, want: 400, field: "Call.Sid"},
		{name: "call id of 129 bytes", req: rawRequest{headers: []string{bearerA, form}, body: formBody(strings.Repeat("C", 129))}, want: 400, field: "Call.Sid"},
		{name: "start date in year 0001", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-s1", "Call.StartDate", "0001-01-01 00:00:00")}, want: 400, field: "Call.StartDate"},
		{name: "start date in year 9999", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-s2", "Call.StartDate", "9999-12-31 23:59:59")}, want: 400, field: "Call.StartDate"},
		{name: "start date in year 10000", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-s3", "Call.StartDate", "10000-01-01 00:00:00")}, want: 400, field: "Call.StartDate"},
		{name: "client id garbage", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-g1", "Google.Analytics.ClientId", "<script>"+hostileClientID)}, want: 200, reply: "ignored", sid: "CAh-g1", dropped: "Google.Analytics.ClientId"},
		{name: "client id is a phone number", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-g2", "Google.Analytics.ClientId", hostilePhone)}, want: 200, reply: "ignored", sid: "CAh-g2", dropped: "Google.Analytics.ClientId"},
		{name: "GCLID with spaces", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-g3", "Google.AdWords.ClickId", "Cj0 "+hostileGCLID)}, want: 200, reply: "accepted", sid: "CAh-g3", dropped: "Google.AdWords.ClickId"},
		{name: "GCLID of 600 bytes", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-g4", "Google.AdWords.ClickId", strings.Repeat("G", 600))}, want: 200, reply: "accepted", sid: "CAh-g4", dropped: "Google.AdWords.ClickId"},
		{name: "fractional survey value", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-g7", "Call.Survey.Value", "12.5")}, want: 200, reply: "accepted", sid: "CAh-g7", dropped: "Call.Survey.Value"},
		{name: "survey value is a JSON bool", req: rawRequest{headers: []string{bearerA, js}, body: jsonBody("CAh-g8", `"Call.Survey.Value":true`)}, want: 200, reply: "accepted", sid: "CAh-g8", dropped: "Call.Survey.Value"},
		{name: "a dropped phone number as a parameter name", req: rawRequest{headers: []string{bearerA, form}, body: append(formBody("CAh-g9"), "&"+url.QueryEscape(hostilePhone)+"=%FF"...)}, want: 200, reply: "accepted", sid: "CAh-g9", dropped: hostilePhone},
		{name: "phone number as a parameter name", req: rawRequest{headers: []string{bearerA, form}, body: append(formBody("CAh-g5"), "&%FF"+url.QueryEscape(hostilePhone)+"=1"...)}, want: 400, field: "\uFFFD" + hostilePhone},
		{name: "complete call without a duration", req: rawRequest{headers: []string{bearerA, form}, body: formBody("CAh-g6", "Call.Duration", "-")}, want: 400, field: "Call.Duration"},
	}

	stored := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sendRaw(t, addr, tt.req)
			if got.status != tt.want {
				t.Fatalf("status %d %s, want %d", got.status, got.body, tt.want)
			}
			if got.header.Get("X-Injected") != "" {
				t.Errorf("a value became a reply header: %v", got.header)
			}
			if tt.req.method == http.MethodHead {
				if len(got.body) != 0 {
					t.Errorf("HEAD reply has a body: %q", got.body)
				}
				return
			}
			var reply map[string]any
			if err := json.Unmarshal(got.body, &reply); err != nil {
				t.Fatalf("reply is not JSON: %q", got.body)
			}
			if tt.want >= 400 {
				if msg, _ := reply["error"].(string); msg == "" {
					t.Errorf("4xx reply without an error: %s", got.body)
				}
				if field, _ := reply["field"].(string); field != tt.field {
					t.Errorf("field %q, want %q (reply %s)", field, tt.field, got.body)
				}
			}
			if tt.want == http.StatusMethodNotAllowed && got.header.Get("Allow") != "GET, POST" {
				t.Errorf("405 with Allow %q, want \"GET, POST\"", got.header.Get("Allow"))
			}
			if tt.want == 200 {
				if reply["status"] != tt.reply {
					t.Errorf("reply status %v, want %q (reply %s)", reply["status"], tt.reply, got.body)
				}
				if got := droppedFields(reply); got != tt.dropped {
					t.Errorf("reply drops %q, want %q (reply %s)", got, tt.dropped, got)
				}
				if tt.sid != "" {
					call, err := f.store.Call(context.Background(), tt.sid)
					if err != nil {
						t.Fatalf("call %q not stored: %v", tt.sid, err)
					}
					if len(call.Dropped) != len(strings.Fields(tt.dropped)) || (tt.dropped != "" && call.Dropped[0].Field != tt.dropped) {
						t.Errorf("stored call drops %+v, want %q", call.Dropped, tt.dropped)
					}
					stored[tt.sid] = true
				}
			}
		})
	}
	if len(tests) < 40 {
		t.Errorf("only %d hostile requests", len(tests))
	}

	ctx := context.Background()
	st, err := f.store.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Calls != len(stored) {
		t.Errorf("store holds %d calls, want %d (one per distinct call id answered 200)", st.Calls, len(stored))
	}

	logs := f.logs.String()
	for _, want := range []string{"webhook accepted", "webhook rejected", "webhook unauthorized"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("the logs lack %q, so scanning them proves nothing:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "panic") {
		t.Errorf("a request made the handler panic:\n%s", logs)
	}
	secrets := []string{
		hostilePhone, strings.TrimPrefix(hostilePhone, "+"), hostileTo, strings.TrimPrefix(hostileTo, "+"),
		hostileClientID, hostileGCLID, tokenA, tokenB, bodyOnlyToken, longToken[:64],
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain %.20q...", s)
		}
	}
	rejected, err := f.store.RejectedRequests(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected) == 0 {
		t.Fatal("no refused request was kept")
	}
	for _, r := range rejected {
		if strings.Contains(r.Query, tokenA) || bytes.Contains(r.Body, []byte(tokenA)) {
			t.Errorf("a kept request holds the token: query %q", r.Query)
		}
	}
}
