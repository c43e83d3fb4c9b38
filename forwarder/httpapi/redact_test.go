package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/httpapi"
)

// spacedToken is a token with characters that have more than one
// encoding in a query string, a form or JSON.
const spacedToken = "rotation token/2+é"

// percentAll percent-encodes every byte of s, in upper or lower case hex.
func percentAll(s string, lower bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		h := fmt.Sprintf("%%%02X", s[i])
		if lower {
			h = strings.ToLower(h)
		}
		b.WriteString(h)
	}
	return b.String()
}

// jsonEscapeAll writes every rune of s as a JSON \u escape.
func jsonEscapeAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

// TestRejectedRequestsRedactTokens: a token in a refused request is
// redacted from the kept copy however it was encoded.
func TestRejectedRequestsRedactTokens(t *testing.T) {
	f := newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA, spacedToken}})
	bad := hostileForm("CAr-1", "Call.Duration", "abc").Encode()
	const jsonBad = `{"Action":"Webhook","Event":"Call.Complete","Call.Sid":"CAr-2","Call.StartDate":"2026-11-25 23:41:07","Call.Duration":"abc","note":"%s"}`
	tests := []struct {
		name, query, contentType, body string
	}{
		{"plain in the body", "", formCT, bad + "&note=" + tokenA},
		{"percent-encoded, upper case", "", formCT, bad + "&note=" + percentAll(tokenA, false)},
		{"percent-encoded, lower case", "", formCT, bad + "&note=" + percentAll(tokenA, true)},
		{"partly percent-encoded", "", formCT, bad + "&note=tok%65n-%61aaaaaaaaaaaaaa%61"},
		{"plus for space", "", formCT, bad + "&note=" + url.QueryEscape(spacedToken)},
		{"%20 for space", "", formCT, bad + "&note=" + url.PathEscape(spacedToken)},
		{"every byte encoded", "", formCT, bad + "&note=" + percentAll(spacedToken, true)},
		{"in the query under another name", "?note=" + percentAll(tokenA, false), formCT, bad},
		{"in the query with plus for space", "?note=" + url.QueryEscape(spacedToken), formCT, bad},
		{"twice in one value", "", formCT, bad + "&note=" + tokenA + "," + percentAll(tokenA, true)},
		{"JSON, plain", "", "application/json", fmt.Sprintf(jsonBad, tokenA)},
		{"JSON, \\u escapes", "", "application/json", fmt.Sprintf(jsonBad, jsonEscapeAll(tokenA))},
		{"JSON, escaped slash", "", "application/json", fmt.Sprintf(jsonBad, strings.ReplaceAll(spacedToken, "/", `\/`))},
		{"JSON, \\u escapes of a token with a space", "", "application/json", fmt.Sprintf(jsonBad, jsonEscapeAll(spacedToken))},
	}
	ctx := context.Background()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := fmt.Sprintf("case%d", i)
			if tt.query == "" {
				tt.query = "?case=" + marker
			} else {
				tt.query += "&case=" + marker
			}
			before, err := f.store.RejectedRequests(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			got := f.post(t, tt.query, tt.contentType, []byte(tt.body), bearer(tokenA))
			if got.status != http.StatusBadRequest {
				t.Fatalf("status %d %v, want 400", got.status, got.body)
			}
			after, err := f.store.RejectedRequests(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before)+1 {
				t.Fatalf("%d kept requests, want %d", len(after), len(before)+1)
			}
			var kept string
			for _, r := range after {
				if strings.Contains(r.Query, marker) {
					kept = r.Query + " " + string(r.Body)
				}
			}
			if !strings.Contains(kept, "REDACTED") || !strings.Contains(kept, "Call.Duration") {
				t.Fatalf("kept copy %q, want the request with the token REDACTED", kept)
			}
			for _, decoded := range decodings(kept) {
				for _, tok := range []string{tokenA, spacedToken} {
					if strings.Contains(decoded, tok) {
						t.Errorf("the kept copy holds a token once decoded: %q", decoded)
					}
				}
			}
		})
	}
}

// decodings returns s as it is and as a form, a query or JSON string
// would decode it.
func decodings(s string) []string {
	out := []string{s}
	if u, err := url.QueryUnescape(s); err == nil {
		out = append(out, u)
	}
	if u, err := url.PathUnescape(s); err == nil {
		out = append(out, u)
	}
	var js string
	if err := json.Unmarshal([]byte(`"`+strings.ReplaceAll(s, `"`, `\"`)+`"`), &js); err == nil {
		out = append(out, js)
	}
	return out
}
