package httpapi

import "testing"

func TestLogField(t *testing.T) {
	tests := map[string]string{
		"Call.Duration":             "Call.Duration",
		"Google.Analytics.ClientId": "Google.Analytics.ClientId",
		"Content-Type":              "Content-Type",
		"body":                      "body",
		"Call.Survey.Custom1":       "Call.Survey.Custom1",
		"Extra_1234":                "Extra_1234",
		"":                          "",
		"+61412345678":              "(other)",
		"61412345678":               "(other)",
		"Caller0412345678":          "(other)",
		"1873452911.1764110422":     "(other)",
		"\uFFFDname":                "(other)",
		"a b":                       "(other)",
		string(make([]byte, 65)):    "(other)",
	}
	for in, want := range tests {
		if got := logField(in); got != want {
			t.Errorf("logField(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSignature(t *testing.T) {
	hex64 := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for in, want := range map[string]bool{
		hex64:                    true,
		"sha256=" + hex64:        true,
		"Sha256=" + hex64:        true,
		" " + hex64 + " ":        true,
		hex64[:62]:               false,
		hex64 + "00":             false,
		"sha1=" + hex64:          false,
		"sha256=":                false,
		"":                       false,
		"zz" + hex64[2:]:         false,
		"sha256=sha256=" + hex64: false,
	} {
		if _, ok := parseSignature(in); ok != want {
			t.Errorf("parseSignature(%q) ok = %v, want %v", in, ok, want)
		}
	}
}

func TestRedact(t *testing.T) {
	secrets := [][]byte{[]byte("tok en"), []byte("k")}
	tests := map[string]string{
		"":                         "",
		"mask":                     "masREDACTED",
		"a=tok en&b=tok+en":        "a=REDACTED&b=REDACTED",
		"a=%74%6F%6b%20%65%6E":     "a=REDACTED",
		"a=%7":                     "a=%7",
		"a=%zz":                    "a=%zz",
		`{"a":"\u0074ok\u0020en"}`: `{"a":"REDACTED"}`,
		"tok entok en":             "REDACTEDREDACTED",
		"to":                       "to",
	}
	for in, want := range tests {
		if got := string(redact([]byte(in), secrets)); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
