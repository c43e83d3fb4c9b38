package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ContentType is the Content-Type a sample named name is sent with:
// *.json as JSON, everything else as an urlencoded form.
func ContentType(name string) string {
	if strings.HasSuffix(name, ".json") {
		return "application/json"
	}
	return "application/x-www-form-urlencoded"
}

// NewRequest builds the request the platform would send for the sample
// named name: *.query by GET with body as the query string, anything else
// by POST. token, when not empty, is sent as a Bearer token.
func NewRequest(ctx context.Context, endpoint, token, name string, body []byte) (*http.Request, error) {
	body = bytes.TrimSpace(body)
	var req *http.Request
	var err error
	if strings.HasSuffix(name, ".query") {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"?"+string(body), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", ContentType(name))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("examples: request for %s: %w", name, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// Set returns the sample body with the given parameters replaced (or
// added), keeping its encoding. Samples have fixed dates; GA4 refuses
// events older than 72 hours, so demos and tests move Call.StartDate to
// a recent time with Set.
func Set(name string, body []byte, params map[string]string) ([]byte, error) {
	body = bytes.TrimSpace(body)
	if strings.HasSuffix(name, ".json") {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("examples: %s: %w", name, err)
		}
		for k, v := range params {
			m[k] = v
		}
		return json.Marshal(m)
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("examples: %s: %w", name, err)
	}
	for k, v := range params {
		q.Set(k, v)
	}
	return []byte(q.Encode()), nil
}

// StartDate formats t as the platform formats Call.StartDate.
func StartDate(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
