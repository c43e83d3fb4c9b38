package googleads

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder"
)

// patterns pairs each hand-written matcher with the regular expression it
// stands for.
var patterns = []struct {
	name  string
	match func(string) bool
	re    *regexp.Regexp
}{
	{"customer id", isCustomerID, regexp.MustCompile(`^[0-9]{10}$`)},
	{"action id", isActionID, regexp.MustCompile(`^[0-9]{1,19}$`)},
	{"gclid", isGCLID, regexp.MustCompile(`^[A-Za-z0-9_-]{1,512}$`)},
	{"sha256 hex", isSHA256Hex, regexp.MustCompile(`^[0-9a-f]{64}$`)},
	{"e164", isE164, regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)},
	{"currency", isCurrency, regexp.MustCompile(`^[A-Z]{3}$`)},
}

// patternInputs are the edges of every pattern: lengths around the
// bounds, each class's first and last characters and their neighbours,
// non-ASCII and invalid UTF-8, and a trailing newline ($ is the end of the
// text).
func patternInputs() []string {
	in := []string{
		"", "0", "9", "/", ":", "a", "f", "g", "A", "F", "Z", "[", "@", "`", "{", "_", "-", "+",
		"1234567890", "123456789", "12345678901", "1234567890\n", "\n1234567890", "１２３４５６７８９０",
		"123-456-7890", "1234567890123456789", "12345678901234567890",
		"+6141234", "+614123", "+614123456789012", "+6141234567890123", "+0412345678", "++61412345678", "+61412345678\n",
		"AUD", "aud", "AU", "AUDD", "AÜD", "EUR\n",
		"Cj0KCQiA4L67BhDUARIsADWrl7Gx1bX8kqZ3vM0wYtN5cQe9sRr2hLpD4fE_aBcD", "Cj0 KCQ", "Cj0KCQ\x00", "Cj0KCQ\xff", "é",
		strings.Repeat("a", 512), strings.Repeat("a", 513), strings.Repeat("Z", 511) + "é",
		strings.Repeat("0", 64), strings.Repeat("f", 64), strings.Repeat("F", 64), strings.Repeat("0", 63), strings.Repeat("0", 65),
		strings.Repeat("0", 63) + "g", strings.Repeat("0", 63) + "\n",
	}
	// Random strings over an alphabet that straddles every class.
	alphabet := []string{"0", "1", "5", "9", "a", "f", "g", "z", "A", "F", "Z", "_", "-", "+", " ", "/", ":", "\n", "é", "\xff"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		n := r.IntN(70)
		if r.IntN(4) == 0 {
			n = 500 + r.IntN(20)
		}
		var b strings.Builder
		// Mostly from one class, so that matches are common.
		class := alphabet[:4+r.IntN(len(alphabet)-3)]
		if r.IntN(3) == 0 {
			b.WriteString("+")
		}
		for range n {
			b.WriteString(class[r.IntN(len(class))])
		}
		in = append(in, b.String())
	}
	return in
}

func TestPatternsMatchTheirRegexps(t *testing.T) {
	inputs := patternInputs()
	for _, p := range patterns {
		matched := 0
		for _, s := range inputs {
			got, want := p.match(s), p.re.MatchString(s)
			if got != want {
				t.Errorf("%s(%q) = %v, the regexp says %v", p.name, s, got, want)
			}
			if want {
				matched++
			}
		}
		if matched == 0 {
			t.Errorf("%s: no input matched; the comparison proves nothing", p.name)
		}
	}
}

func FuzzPatternsMatchTheirRegexps(f *testing.F) {
	for _, s := range patternInputs()[:60] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range patterns {
			if got, want := p.match(s), p.re.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, the regexp says %v", p.name, s, got, want)
			}
		}
	})
}

// BenchmarkValidate checks the conversion of the benchmark's rules (a click
// with a GCLID, a hashed phone, a value and a currency): "validate" is the
// whole of Validate; "direct" and "regexp" are, in the same run, the
// matches Validate makes for it with the hand-written matchers and with
// the regular expressions they replaced.
func BenchmarkValidate(b *testing.B) {
	v := 50.0
	a := &forwarder.AdsConversion{
		Backend: forwarder.AdsBackendDataManager, Kind: forwarder.AdsClick,
		CustomerID: "1234567890", ConversionAction: "987654321", Time: time.Now(),
		GCLID:       "Cj0KCQiA4L67BhDUARIsADWrl7Gx1bX8kqZ3vM0wYtN5cQe9sRr2hLpD4fE_aBcD",
		HashedPhone: strings.Repeat("a1", 32), Value: &v, Currency: "AUD", AdUserData: "GRANTED",
	}
	b.Run("validate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := Validate(a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ok := isCustomerID(a.CustomerID) && isActionID(a.ConversionAction) &&
				isGCLID(a.GCLID) && isSHA256Hex(a.HashedPhone) && isCurrency(a.Currency)
			if !ok {
				b.Fatal("no match")
			}
		}
	})
	b.Run("regexp", func(b *testing.B) {
		re := map[string]*regexp.Regexp{}
		for _, p := range patterns {
			re[p.name] = p.re
		}
		b.ReportAllocs()
		for b.Loop() {
			ok := re["customer id"].MatchString(a.CustomerID) && re["action id"].MatchString(a.ConversionAction) &&
				re["gclid"].MatchString(a.GCLID) && re["sha256 hex"].MatchString(a.HashedPhone) && re["currency"].MatchString(a.Currency)
			if !ok {
				b.Fatal("no match")
			}
		}
	})
}
