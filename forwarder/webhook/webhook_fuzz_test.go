package webhook

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// FuzzDecode feeds arbitrary requests through Params and Decode and checks
// the invariants the HTTP layer relies on.
func FuzzDecode(f *testing.F) {
	for _, s := range loadSamples(f) {
		f.Add(s.method == http.MethodGet, s.contentType, s.rawQuery, s.body)
		if s.method == http.MethodGet {
			// The same parameters as a form body and with unencoded '+'.
			f.Add(false, formType, "token=t", []byte(s.rawQuery))
			continue
		}
		params, err := Params(s.method, s.contentType, "", s.body)
		if err != nil {
			f.Fatalf("%s: %v", s.name, err)
		}
		f.Add(true, "", params.Encode(), []byte(nil))
		f.Add(false, formType, "", []byte(params.Encode()))
		f.Add(false, "application/json", "", jsonOf(f, params))
	}
	f.Add(false, "multipart/form-data; boundary=B", "", []byte("--B\r\nContent-Disposition: form-data; name=\"Call.Sid\"\r\n\r\nCA1\r\n--B--\r\n"))
	f.Add(false, "application/json", "", []byte(`{"Call":{"Sid":"CA1","Duration":187.0,"Prompts":{"Keys":[1]}}}`))
	f.Add(true, "", "Call.From=+61412345678&Call.StartDate=2026-11-26T10:41:07+11:00", []byte(nil))

	f.Fuzz(func(t *testing.T, get bool, contentType, rawQuery string, body []byte) {
		method := http.MethodPost
		if get {
			method = http.MethodGet
		}
		params, err := Params(method, contentType, rawQuery, body)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Params returned %T %v, want a *FieldError", err, err)
			}
			if params != nil {
				t.Fatalf("Params returned parameters and an error %v", err)
			}
			return
		}
		if _, ok := params[tokenParam]; ok {
			t.Fatal("Params kept the token")
		}
		call, err := Decode(params)
		again, errAgain := Decode(params)
		if errorText(err) != errorText(errAgain) || (call == nil) != (again == nil) {
			t.Fatalf("Decode is not deterministic: %v, then %v", err, errAgain)
		}
		switch {
		case call != nil && err != nil:
			t.Fatalf("Decode returned a Call and an error %v", err)
		case call == nil && err == nil:
			t.Fatal("Decode returned neither a Call nor an error")
		case err != nil:
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Problem == "" {
				t.Fatalf("Decode returned %T %v, want a complete *FieldError", err, err)
			}
			return
		}
		if !isSid(call.Sid) {
			t.Errorf("Sid %q is not a valid call id", call.Sid)
		}
		if call.StartDate.Location() != time.UTC || call.StartDate.IsZero() {
			t.Errorf("StartDate %v is not a UTC time", call.StartDate)
		}
		if call.Duration != nil && *call.Duration < 0 {
			t.Errorf("Duration %d is negative", *call.Duration)
		}
		if call.Survey.Value != nil && *call.Survey.Value < 0 {
			t.Errorf("Survey.Value %d is negative", *call.Survey.Value)
		}
		if _, ok := call.Extra[tokenParam]; ok {
			t.Error("the token reached Call.Extra")
		}
		if _, err := json.Marshal(call); err != nil {
			t.Errorf("the Call cannot be stored as JSON: %v", err)
		}
	})
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// jsonOf writes params as a flat JSON object (first values only).
func jsonOf(tb testing.TB, params url.Values) []byte {
	tb.Helper()
	m := make(map[string]string, len(params))
	for k, vs := range params {
		m[k] = vs[0]
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
