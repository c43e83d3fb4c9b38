package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	set := func(name, value string) func(url.Values) {
		return func(v url.Values) { v.Set(name, value) }
	}
	del := func(name string) func(url.Values) {
		return func(v url.Values) { v.Del(name) }
	}
	tests := []struct {
		name    string
		req     request
		field   string
		problem string
	}{
		{"missing Call.Sid", formRequest(del("Call.Sid")), "Call.Sid", "required"},
		{"blank Call.Sid", formRequest(set("Call.Sid", "   ")), "Call.Sid", "required"},
		{"Call.Sid with a slash", formRequest(set("Call.Sid", "CA1/x")), "Call.Sid", `not a call id (1 to 128 of A-Z a-z 0-9 _ . : -): "CA1/x"`},
		{"Call.Sid too long", formRequest(set("Call.Sid", strings.Repeat("a", 129))), "Call.Sid", "not a call id"},
		{"missing Action", formRequest(del("Action")), "Action", "required"},
		{"Action not Webhook", formRequest(set("Action", "webhook")), "Action", `must be "Webhook", got "webhook"`},
		{"missing Event", formRequest(del("Event")), "Event", "required"},
		{"Event with a dash", formRequest(set("Event", "Call-Complete")), "Event", `not an event name (Word.Word): "Call-Complete"`},
		{"Event with three words", formRequest(set("Event", "Call.Complete.Now")), "Event", "not an event name"},
		{"Event with a digit", formRequest(set("Event", "Call.Complete2")), "Event", "not an event name"},
		{"missing Call.StartDate", formRequest(del("Call.StartDate")), "Call.StartDate", "required"},
		{"bad date", formRequest(set("Call.StartDate", "26/11/2026 02:15")), "Call.StartDate", `not a date ("2006-01-02 15:04:05" UTC or RFC 3339): "26/11/2026 02:15"`},
		{"impossible month", formRequest(set("Call.StartDate", "2026-13-01 00:00:00")), "Call.StartDate", "not a date"},
		{"date before 1970", formRequest(set("Call.StartDate", "1969-12-31 23:59:59")), "Call.StartDate", "out of range"},
		{"date pushed before year 1 by its offset", formRequest(set("Call.StartDate", "0000-01-01T00:00:00+01:00")), "Call.StartDate", "out of range"},
		{"date in year 9999", formRequest(set("Call.StartDate", "9999-12-31 23:59:59")), "Call.StartDate", "more than 24h0m0s ahead"},
		{"date two days ahead", formRequest(set("Call.StartDate", time.Now().UTC().Add(48*time.Hour).Format(time.DateTime))), "Call.StartDate", "more than 24h0m0s ahead"},
		{"invalid UTF-8 in a required value", formRequest(set("Call.Sid", "CA\xe9")), "Call.Sid", "value is not valid UTF-8"},
		{"required value too long", formRequest(set("Event", strings.Repeat("x", 4097))), "Event", "value longer than 4096 bytes"},
		{"malformed duration of a Call.Complete given twice", formRequest(func(v url.Values) { v["Call.Duration"] = []string{"1", "2"} }), "Call.Duration", "given more than once with different values"},
		{"non-integer duration", formRequest(set("Call.Duration", "abc")), "Call.Duration", `not an integer: "abc"`},
		{"negative duration", formRequest(set("Call.Duration", "-5")), "Call.Duration", `must not be negative: "-5"`},
		{"fractional duration", formRequest(set("Call.Duration", "187.5")), "Call.Duration", `not an integer: "187.5"`},
		{"huge duration", formRequest(set("Call.Duration", "99999999999")), "Call.Duration", "out of range"},
		{"duration with a unit", formRequest(set("Call.Duration", "187s")), "Call.Duration", "not an integer"},
		{"missing duration on Call.Complete", formRequest(del("Call.Duration")), "Call.Duration", "required for Call.Complete"},
		{"repeated with different values", formRequest(func(v url.Values) { v.Add("Call.Sid", "CA2") }), "Call.Sid", "given more than once with different values"},
		{"invalid UTF-8 name", formRequest(set("Call.\xff", "x")), "Call.\uFFFD", "parameter name is not valid UTF-8"},
		{"name too long", formRequest(set(strings.Repeat("N", 129), "x")), FieldBody, "parameter name longer than 128 bytes"},
		{"empty name", formRequest(set("", "x")), FieldBody, "empty parameter name"},
		{"too many params", formRequest(func(v url.Values) {
			for i := range 252 {
				v.Set(fmt.Sprintf("X.%d", i), "1")
			}
		}), FieldBody, "more than 256 parameters"},
		{"JSON array value", jsonRequest(`,"Call.Prompts.Keys":["1","2"]`), "Call.Prompts.Keys", "arrays are not supported"},
		{"nested JSON array", jsonRequest(`,"Call":{"Prompts":{"Keys":[1]}}`), "Call.Prompts.Keys", "arrays are not supported"},
		{"JSON fractional duration of a Call.Complete", request{method: http.MethodPost, contentType: "application/json", body: []byte(`{"Action":"Webhook","Event":"Call.Complete","Call.Sid":"CA1","Call.StartDate":"2026-11-25 23:41:07","Call.Duration":187.5}`)}, "Call.Duration", `not an integer: "187.5"`},
		{"JSON duplicate key", jsonRequest(`,"Call.Sid":"CA2"`), "Call.Sid", "given more than once with different values"},
		{"JSON flat and nested key collide", jsonRequest(`,"Call":{"Sid":"CA2"}`), "Call.Sid", "given more than once with different values"},
		{"JSON not an object", request{method: http.MethodPost, contentType: "application/json", body: []byte(`["Action"]`)}, FieldBody, "JSON body is not an object"},
		{"JSON truncated", request{method: http.MethodPost, contentType: "application/json", body: []byte(`{"Action":"Webhook",`)}, FieldBody, "malformed JSON"},
		{"JSON trailing data", request{method: http.MethodPost, contentType: "application/json", body: []byte(`{"Action":"Webhook"} {}`)}, FieldBody, "data after the top-level object"},
		{"JSON invalid UTF-8", request{method: http.MethodPost, contentType: "application/json", body: []byte("{\"Call.To.Name\":\"Caf\xe9\"}")}, FieldBody, "JSON body is not valid UTF-8"},
		{"JSON nested too deep", request{method: http.MethodPost, contentType: "application/json", body: []byte(strings.Repeat(`{"a":`, 17) + "1" + strings.Repeat("}", 17))}, FieldBody, "nested deeper than 16 levels"},
		{"multipart file part", multipartRequest(t, part{name: "Call.Sid", value: "CA1"}, part{name: "Call.Recording", file: "call.mp3", value: "ID3"}), "Call.Recording", "file parts are not supported"},
		{"malformed form", request{method: http.MethodPost, contentType: formType, body: []byte("Action=Webhook&Call.Sid=%zz")}, FieldBody, "malformed form body"},
		{"malformed query string", request{method: http.MethodGet, rawQuery: "Action=Webhook;Event=Call.Complete"}, FieldBody, "malformed query string"},
		{"content type unsupported", request{method: http.MethodPost, contentType: "text/plain", body: []byte("Action=Webhook")}, FieldContentType, `unsupported media type "text/plain"`},
		{"content type missing", request{method: http.MethodPost, body: []byte("Action=Webhook")}, FieldContentType, "missing for a request body"},
		{"content type malformed", request{method: http.MethodPost, contentType: "application/json; =x", body: []byte("{}")}, FieldContentType, "malformed"},
		{"charset not UTF-8", request{method: http.MethodPost, contentType: formType + "; charset=iso-8859-1", body: []byte("Action=Webhook")}, FieldContentType, `unsupported charset "iso-8859-1"`},
		{"multipart without boundary", request{method: http.MethodPost, contentType: "multipart/form-data", body: []byte("x")}, FieldContentType, "without a boundary"},
	}
	if len(tests) < 25 {
		t.Fatalf("only %d bad inputs", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			call, err := decodeRequest(tt.req)
			if call != nil {
				t.Errorf("got a Call (sid %q) along with the error, want none", call.Sid)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got error %v (%T), want a *FieldError for %s", err, err, tt.field)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Problem, tt.problem) {
				t.Errorf("got %s: %s\nwant %s: ...%s...", fe.Field, fe.Problem, tt.field, tt.problem)
			}
			if isCT := errors.Is(err, ErrUnsupportedContentType); isCT != (tt.field == FieldContentType) {
				t.Errorf("errors.Is(err, ErrUnsupportedContentType) = %v for field %q", isCT, fe.Field)
			}
		})
	}
}

// TestDecodeErrorOrder checks that a request with several problems always
// reports the same one.
func TestDecodeErrorOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(url.Values)
		field string
	}{
		{"request-wide problems before field problems, smallest name first", func(v url.Values) {
			v.Set("Action", "nope")
			v["Event"] = []string{"Call.Complete", "Call.Initiate"}
			v["Call.Sid"] = []string{"CA1", "CA2"}
			v["B.Dup"] = []string{"1", "2"}
			v.Set("Call.To.Name", "\xff")
		}, "Call.Sid"},
		{"field problems in table order", func(v url.Values) {
			v.Set("Google.Analytics.ClientId", "x")
			v.Set("Call.Duration", "x")
			v.Del("Call.Sid")
			v.Set("Event", "x")
		}, "Event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 20 { // map order varies between runs
				params := baseForm()
				tt.edit(params)
				_, err := Decode(params)
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tt.field {
					t.Fatalf("got %v, want an error about %s", err, tt.field)
				}
			}
		})
	}
}

// TestDecodeDrops checks that a malformed optional parameter is left out
// of the call, which is accepted and says what was dropped and why.
func TestDecodeDrops(t *testing.T) {
	t.Parallel()
	set := func(name, value string) func(url.Values) {
		return func(v url.Values) { v.Set(name, value) }
	}
	tests := []struct {
		name    string
		req     request
		field   string
		problem string
		// absent reports whether the call holds nothing of the field.
		absent func(*forwarder.Call) bool
	}{
		{"fractional survey value", formRequest(set("Call.Survey.Value", "12.5")), "Call.Survey.Value", `not an integer: "12.5"`,
			func(c *forwarder.Call) bool { return c.Survey.Value == nil }},
		{"non-integer survey value", formRequest(set("Call.Survey.Value", "12abc")), "Call.Survey.Value", `not an integer: "12abc"`,
			func(c *forwarder.Call) bool { return c.Survey.Value == nil }},
		{"negative survey value", formRequest(set("Call.Survey.Value", "-1")), "Call.Survey.Value", "must not be negative",
			func(c *forwarder.Call) bool { return c.Survey.Value == nil }},
		{"JSON fractional survey value", jsonRequest(`,"Call.Survey.Value":12.5`), "Call.Survey.Value", `not an integer: "12.5"`,
			func(c *forwarder.Call) bool { return c.Survey.Value == nil }},
		{"malformed duration of a Call.Initiate", jsonRequest(`,"Call.Duration":"abc"`), "Call.Duration", `not an integer: "abc"`,
			func(c *forwarder.Call) bool { return c.Duration == nil }},
		{"client id not numeric", formRequest(set("Google.Analytics.ClientId", "abc.def")), "Google.Analytics.ClientId", "not a GA client id",
			func(c *forwarder.Call) bool { return c.GAClientID == "" }},
		{"client id cookie cut short", formRequest(set("Google.Analytics.ClientId", "GA1.2.123")), "Google.Analytics.ClientId", "not a GA client id",
			func(c *forwarder.Call) bool { return c.GAClientID == "" }},
		{"client id a UUID", formRequest(set("Google.Analytics.ClientId", "0b6b1c4e-8a4e-4f1e-9c3e-1a2b3c4d5e6f")), "Google.Analytics.ClientId", "not a GA client id",
			func(c *forwarder.Call) bool { return c.GAClientID == "" }},
		{"gclid with whitespace", formRequest(set("Google.AdWords.ClickId", "Cj0K CQiA")), "Google.AdWords.ClickId", "contains whitespace",
			func(c *forwarder.Call) bool { return c.GCLID == "" }},
		{"gclid too long", formRequest(set("Google.AdWords.ClickId", strings.Repeat("A", 513))), "Google.AdWords.ClickId", "longer than 512 bytes",
			func(c *forwarder.Call) bool { return c.GCLID == "" }},
		{"invalid UTF-8 value", formRequest(set("Call.To.Name", "Caf\xe9")), "Call.To.Name", "value is not valid UTF-8",
			func(c *forwarder.Call) bool { return c.ToName == "" }},
		{"value too long", formRequest(set("Call.To.Name", strings.Repeat("x", 4097))), "Call.To.Name", "value longer than 4096 bytes",
			func(c *forwarder.Call) bool { return c.ToName == "" }},
		{"unknown parameter repeated with different values", formRequest(func(v url.Values) { v["Custom.Thing"] = []string{"a", "b"} }), "Custom.Thing", "given more than once with different values",
			func(c *forwarder.Call) bool { _, ok := c.Extra["Custom.Thing"]; return !ok }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			call, err := decodeRequest(tt.req)
			if err != nil {
				t.Fatalf("got error %v, want a Call without %s", err, tt.field)
			}
			if len(call.Dropped) != 1 || call.Dropped[0].Field != tt.field || !strings.Contains(call.Dropped[0].Reason, tt.problem) {
				t.Errorf("dropped %+v, want %s: ...%s...", call.Dropped, tt.field, tt.problem)
			}
			if !tt.absent(call) {
				t.Errorf("the call still holds %s", tt.field)
			}
			if call.Sid == "" || call.StartDate.IsZero() {
				t.Errorf("call lost its identity: sid %q, start %v", call.Sid, call.StartDate)
			}
		})
	}
	t.Run("several, in a stable order", func(t *testing.T) {
		t.Parallel()
		for range 20 { // map order varies between runs
			call, err := decodeRequest(formRequest(func(v url.Values) {
				v.Set("Google.AdWords.ClickId", "a b")
				v["Z.Dup"] = []string{"1", "2"}
				v.Set("Call.Survey.Value", "x")
				v.Set("Call.To.Name", "\xff")
			}))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range call.Dropped {
				got = append(got, d.Field)
			}
			if want := "Call.Survey.Value Call.To.Name Google.AdWords.ClickId Z.Dup"; strings.Join(got, " ") != want {
				t.Fatalf("dropped %v, want %s", got, want)
			}
		}
	})
}

func TestDecodeAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		req   request
		check func(*forwarder.Call) string
	}{
		{"repeated identical values", formRequest(func(v url.Values) { v.Add("Call.Sid", "CA0e8f9a7b") }), func(c *forwarder.Call) string {
			return want("Sid", c.Sid, "CA0e8f9a7b")
		}},
		{"values trimmed", formRequest(func(v url.Values) {
			v.Set("Call.Sid", "  CA9 \t")
			v.Set("Call.To.Name", " Brand ")
			v.Set("Call.Duration", " 12 ")
		}), func(c *forwarder.Call) string {
			return want("Sid", c.Sid, "CA9") + want("ToName", c.ToName, "Brand") + want("Duration", fmt.Sprint(*c.Duration), "12")
		}},
		{"unknown event kept", formRequest(func(v url.Values) { v.Set("Event", "Call.Transfer"); v.Del("Call.Duration") }), func(c *forwarder.Call) string {
			return want("Event", string(c.Event), "Call.Transfer") + want("Duration nil", fmt.Sprint(c.Duration == nil), "true")
		}},
		{"Call.Initiate without duration", formRequest(func(v url.Values) { v.Set("Event", "Call.Initiate"); v.Del("Call.Duration") }), func(c *forwarder.Call) string {
			return want("Duration nil", fmt.Sprint(c.Duration == nil), "true")
		}},
		{"Call.Initiate with empty duration", formRequest(func(v url.Values) { v.Set("Event", "Call.Initiate"); v.Set("Call.Duration", "") }), func(c *forwarder.Call) string {
			return want("Duration nil", fmt.Sprint(c.Duration == nil), "true")
		}},
		{"empty survey value is absent", formRequest(func(v url.Values) { v.Set("Call.Survey.Value", " ") }), func(c *forwarder.Call) string {
			return want("Survey.Value nil", fmt.Sprint(c.Survey.Value == nil), "true")
		}},
		{"survey value zero is kept", formRequest(func(v url.Values) { v.Set("Call.Survey.Value", "0") }), func(c *forwarder.Call) string {
			return want("Survey.Value", fmt.Sprint(*c.Survey.Value), "0")
		}},
		{"RFC 3339 date with offset", formRequest(func(v url.Values) { v.Set("Call.StartDate", "2026-11-26T10:41:07+11:00") }), func(c *forwarder.Call) string {
			return want("StartDate", c.StartDate.String(), "2026-11-25 23:41:07 +0000 UTC")
		}},
		{"RFC 3339 offset sent unencoded in a GET", request{method: http.MethodGet, rawQuery: "Action=Webhook&Event=Call.Initiate&Call.Sid=CA1&Call.StartDate=2026-11-26T10:41:07+11:00"}, func(c *forwarder.Call) string {
			return want("StartDate", c.StartDate.String(), "2026-11-25 23:41:07 +0000 UTC")
		}},
		{"date without zone", formRequest(func(v url.Values) { v.Set("Call.StartDate", "2026-11-25T23:41:07") }), func(c *forwarder.Call) string {
			return want("StartDate", c.StartDate.String(), "2026-11-25 23:41:07 +0000 UTC")
		}},
		{"unknown parameters go to Extra, empty ones do not", formRequest(func(v url.Values) {
			v.Set("Call.Tags", " vip ")
			v.Set("Call.Empty", "")
		}), func(c *forwarder.Call) string {
			return want("Extra", fmt.Sprint(c.Extra), "map[Call.Tags:vip]")
		}},
		{"token never reaches the Call", formRequest(func(v url.Values) { v.Set("token", "s3cret") }), func(c *forwarder.Call) string {
			return want("Extra", fmt.Sprint(c.Extra), "map[]")
		}},
		{"phone repaired in an unencoded GET", request{method: http.MethodGet, rawQuery: "Action=Webhook&Event=Call.Initiate&Call.Sid=CA1&Call.StartDate=2026-11-25+23:41:07&Call.From=+61412345678&Call.To=+61 2 9123 4567"}, func(c *forwarder.Call) string {
			return want("From", c.From, "+61412345678") + want("To", c.To, "+61291234567") + want("StartDate", c.StartDate.String(), "2026-11-25 23:41:07 +0000 UTC")
		}},
		{"prompts split", formRequest(func(v url.Values) {
			v.Set("Call.Prompts.Postcode", " 2000, ,3000,")
			v.Set("Call.Prompts.Keys", ",")
		}), func(c *forwarder.Call) string {
			return want("Postcodes", fmt.Sprintf("%q", c.Prompts.Postcodes), `["2000" "3000"]`) + want("Keys nil", fmt.Sprint(c.Prompts.Keys == nil), "true")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			call, err := decodeRequest(tt.req)
			if err != nil {
				t.Fatalf("got error %v, want a Call", err)
			}
			if msg := tt.check(call); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// want returns "" when got is expected, else a message saying both.
func want(what, got, expected string) string {
	if got == expected {
		return ""
	}
	return fmt.Sprintf("%s: got %q, want %q; ", what, got, expected)
}

func TestDecodeNilAndEmpty(t *testing.T) {
	t.Parallel()
	for _, params := range []url.Values{nil, {}} {
		call, err := Decode(params)
		var fe *FieldError
		if call != nil || !errors.As(err, &fe) || fe.Field != "Action" {
			t.Errorf("Decode(%v) = %v, %v; want a FieldError about Action", params, call, err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	var s sample
	for _, x := range loadSamples(b) {
		if x.name == "answered-with-gclid" {
			s = x
		}
	}
	if s.body == nil {
		b.Fatal("sample answered-with-gclid not found")
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(s.body)))
	for b.Loop() {
		params, err := Params(s.method, s.contentType, "token=abc", s.body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(params); err != nil {
			b.Fatal(err)
		}
	}
}
