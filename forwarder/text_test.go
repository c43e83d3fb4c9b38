package forwarder

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Shop Front", "Shop Front"},
		{"Café ☎ 电话", "Café ☎ 电话"},
		{"Shop\x00Front", "ShopFront"},
		{"a\tb\nc\r\nd", "a b c  d"},
		{"bell\x07 esc\x1b[31m del\x7f", "bell esc[31m del"},
		{"c1\u0085\u009f end", "c1 end"},
		{"lone surrogate \ufffd decoded", "lone surrogate  decoded"},
		{"broken \xed\xa0\x80 surrogate bytes", "broken  surrogate bytes"},
		{"bad \xff\xfe bytes", "bad  bytes"},
		{"\x00\x01\x02", ""},
		{"zero width\u200bjoiner stays", "zero width\u200bjoiner stays"},
	}
	for _, tt := range tests {
		got := CleanText(tt.in)
		if got != tt.want {
			t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || strings.ContainsFunc(got, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) {
			t.Errorf("CleanText(%q) = %q still holds a control character or an invalid byte", tt.in, got)
		}
		if CleanText(got) != got {
			t.Errorf("CleanText is not idempotent on %q", tt.in)
		}
	}
}

// TestCleanTexts checks that every text of every kind of delivery is
// cleaned, and that a clean delivery is shared, not copied.
func TestCleanTexts(t *testing.T) {
	const dirty = "x\x00\ufffd\x07"
	d := Delivery{
		GA4: &GA4Event{ClientID: dirty, Name: dirty, Params: map[string]any{"p" + dirty: dirty, "n": 1}, UserProperties: map[string]any{"u": dirty}},
		UA:  &UAHit{TrackingID: dirty, ClientID: dirty, Category: dirty, Action: dirty, Label: dirty, Campaign: map[string]string{"cn": dirty}},
		Ads: &AdsConversion{CustomerID: dirty, LoginCustomerID: dirty, ConversionAction: dirty, GCLID: dirty, HashedPhone: dirty, CallerID: dirty, Currency: dirty, TransactionID: dirty, AdUserData: dirty},
	}
	before, _ := json.Marshal(d)
	got, err := json.Marshal(d.CleanTexts())
	if err != nil {
		t.Fatal(err)
	}
	if s := string(got); strings.Contains(s, `\u0000`) || strings.Contains(s, `\ufffd`) || strings.Contains(s, "\ufffd") || strings.Contains(s, `\u0007`) {
		t.Errorf("cleaned delivery still holds a bad character: %s", got)
	}
	if n := strings.Count(string(got), `"x"`); n != 19 {
		t.Errorf("%d cleaned texts, want 19: %s", n, got)
	}
	if after, _ := json.Marshal(d); string(after) != string(before) {
		t.Errorf("CleanTexts changed its receiver")
	}
	clean := Delivery{GA4: &GA4Event{Params: map[string]any{"a": "b"}}}
	if c := clean.CleanTexts(); reflect.ValueOf(c.GA4.Params).UnsafePointer() != reflect.ValueOf(clean.GA4.Params).UnsafePointer() {
		t.Errorf("the params of a clean delivery were copied")
	}
}
