package jsonenc

import (
	"encoding/json"
	"math"
	"testing"
)

// TestAppendStringAsEncodingJSON: every string is written with the bytes
// encoding/json writes for it.
func TestAppendStringAsEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain ascii", `quote " and backslash \`, "<html> & 'amp'", "tab\tnew\nline\rcr\bbs\fff",
		"\x00\x01\x1f\x7f", "é ü ß 日本 🎉", "line\u2028sep\u2029para", "bad \xff\xfe utf-8", "\xed\xa0\x80 surrogate",
		"mixed \"<\u2028\xff>\" end",
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
		if got := AppendStringContent([]byte("x"), s); string(got) != "x"+string(want[1:len(want)-1]) {
			t.Errorf("AppendStringContent(%q) = %s, want x%s", s, got, want[1:len(want)-1])
		}
		if got := AppendBytesContent([]byte("x"), []byte(s)); string(got) != "x"+string(want[1:len(want)-1]) {
			t.Errorf("AppendBytesContent(%q) = %s, want x%s", s, got, want[1:len(want)-1])
		}
	}
}

// TestAppendFloatAsEncodingJSON: every finite float64 is written with the
// bytes encoding/json writes for it.
func TestAppendFloatAsEncodingJSON(t *testing.T) {
	for _, f := range []float64{
		0, math.Copysign(0, -1), 1, -1, 0.1, 50, 1234.5678, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, -1e21, 123456789012345678,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1.5e-300, 3.0e300,
	} {
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendFloat(nil, f); string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

// FuzzAppendBytesContent: a byte slice is escaped as the string of its
// bytes, as encoding/json escapes it.
func FuzzAppendBytesContent(f *testing.F) {
	f.Add([]byte(`{"a":"<\u2028>"}`))
	f.Add([]byte("\xff\x00\u2029 é"))
	f.Fuzz(func(t *testing.T, s []byte) {
		want, err := json.Marshal(string(s))
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendBytesContent(nil, s); string(got) != string(want[1:len(want)-1]) {
			t.Errorf("AppendBytesContent(%q) = %s, want %s", s, got, want[1:len(want)-1])
		}
	})
}
