package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/httpapi"
)

var sigSecret = []byte("signature-secret-0123456789")

func sign(secret []byte, msg string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSignature(t *testing.T) {
	f := newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA}, SignatureSecret: sigSecret})
	custom := newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA}, SignatureSecret: sigSecret, SignatureHeader: "X-Hub-Signature-256"})
	const header = httpapi.DefaultSignatureHeader
	body := func(sid string) string { return validForm(sid).Encode() }
	query := func(sid string) string { return validForm(sid).Encode() }

	tests := []struct {
		name    string
		f       *fixture
		method  string
		query   string // without '?'
		body    string
		headers []string // name, value pairs
		noToken bool     // send no bearer token
		want    int
		field   string
	}{
		{name: "signed body", body: body("CAsig1"), headers: []string{header, sign(sigSecret, body("CAsig1"))}, want: 200},
		{name: "sha256= prefix", body: body("CAsig2"), headers: []string{header, "sha256=" + sign(sigSecret, body("CAsig2"))}, want: 200},
		{name: "upper-case prefix and hex", body: body("CAsig3"), headers: []string{header, "SHA256=" + strings.ToUpper(sign(sigSecret, body("CAsig3")))}, want: 200},
		{name: "header name in another case", body: body("CAsig4"), headers: []string{"x-signature-sha256", sign(sigSecret, body("CAsig4"))}, want: 200},
		{name: "custom header", f: custom, body: body("CAsig5"), headers: []string{"X-Hub-Signature-256", "sha256=" + sign(sigSecret, body("CAsig5"))}, want: 200},
		{name: "custom header, signature in the default one", f: custom, body: body("CAsig6"), headers: []string{header, sign(sigSecret, body("CAsig6"))}, want: 401, field: "X-Hub-Signature-256"},
		{name: "missing", body: body("CAsig7"), want: 401, field: header},
		{name: "empty", body: body("CAsig8"), headers: []string{header, ""}, want: 401, field: header},
		{name: "wrong key", body: body("CAsig9"), headers: []string{header, sign([]byte("other"), body("CAsig9"))}, want: 401, field: header},
		{name: "another body's signature", body: body("CAsig10"), headers: []string{header, sign(sigSecret, body("CAsig11"))}, want: 401, field: header},
		{name: "not hex", body: body("CAsig12"), headers: []string{header, strings.Repeat("zz", 32)}, want: 401, field: header},
		{name: "truncated", body: body("CAsig13"), headers: []string{header, sign(sigSecret, body("CAsig13"))[:40]}, want: 401, field: header},
		{name: "given twice", body: body("CAsig14"), headers: []string{header, sign(sigSecret, body("CAsig14")), header, sign(sigSecret, body("CAsig14"))}, want: 401, field: header},
		{name: "unsigned query parameters beside a signed body", query: "Google.AdWords.ClickId=injected", body: body("CAsig15"), headers: []string{header, sign(sigSecret, body("CAsig15"))}, want: 401, field: header},
		{name: "a query token beside a signed body is fine", query: "token=" + tokenA, body: body("CAsig16"), headers: []string{header, sign(sigSecret, body("CAsig16"))}, want: 200},
		{name: "GET signed over the query, token appended", method: http.MethodGet, query: query("CAsig17") + "&token=" + tokenA, headers: []string{header, sign(sigSecret, query("CAsig17"))}, want: 200},
		{name: "GET with the token in the middle", method: http.MethodGet, query: "token=" + tokenA + "&" + query("CAsig18"), headers: []string{header, sign(sigSecret, query("CAsig18"))}, want: 200},
		{name: "GET signed over the query with its token", method: http.MethodGet, query: query("CAsig19") + "&token=" + tokenA, headers: []string{header, sign(sigSecret, query("CAsig19")+"&token="+tokenA)}, want: 401, field: header},
		{name: "GET signed over an empty body", method: http.MethodGet, query: query("CAsig20") + "&token=" + tokenA, headers: []string{header, sign(sigSecret, "")}, want: 401, field: header},
		{name: "empty POST signed over its query", query: query("CAsig21"), headers: []string{header, sign(sigSecret, query("CAsig21"))}, want: 200},
		{name: "empty POST signed over the empty body", query: query("CAsig22"), headers: []string{header, sign(sigSecret, "")}, want: 401, field: header},
		{name: "signed but no token", body: body("CAsig23"), headers: []string{header, sign(sigSecret, body("CAsig23"))}, noToken: true, want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := f
			if tt.f != nil {
				fx = tt.f
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, fx.srv.URL+httpapi.WebhookPath+"?"+tt.query, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", formCT)
			if !tt.noToken && !strings.Contains(tt.query, "token=") {
				req.Header.Set("Authorization", "Bearer "+tokenA)
			}
			for i := 0; i+1 < len(tt.headers); i += 2 {
				req.Header.Add(tt.headers[i], tt.headers[i+1])
			}
			got := fx.do(t, req)
			if got.status != tt.want {
				t.Fatalf("status %d %v, want %d", got.status, got.body, tt.want)
			}
			if tt.want == 200 {
				return
			}
			field, _ := got.body["field"].(string)
			if field != tt.field {
				t.Errorf("field %q, want %q (reply %v)", field, tt.field, got.body)
			}
			if msg, _ := got.body["error"].(string); tt.field != "" && !strings.Contains(msg, tt.field) {
				t.Errorf("error %q does not name the header %s", msg, tt.field)
			}
		})
	}
	for _, fx := range []*fixture{f, custom} {
		st, err := fx.store.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Rejected != 0 {
			t.Errorf("%d requests refused for their signature were kept; only authenticated ones are", st.Rejected)
		}
	}
}
