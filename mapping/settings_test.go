package mapping

import (
	"testing"

	"github.com/callforward/callforward/forwarder/userdata"
)

// TestDefaultRegion checks that settings: default_region decides how a
// national caller number is read, and that numbers with a country code do
// not depend on it.
func TestDefaultRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		settings string
		from     string
		want     string // the E.164 number hashed; "" when none is usable
	}{
		{"", "+61412345678", "+61412345678"},
		{"", "0412 345 678", ""},
		{"settings: {default_region: AU}\n", "0412 345 678", "+61412345678"},
		{"settings: {default_region: AU}\n", "+1 800-555-0100", "+18005550100"},
		{"settings: {default_region: US}\n", "(800) 555-0100", "+18005550100"},
		{"settings: {default_region: US}\n", "0412 345 678", ""},
		{"settings: {default_region: GB}\n", "020 7946 0018", "+442079460018"},
		{"settings:\n", "+61412345678", "+61412345678"},
	}
	for _, tc := range tests {
		t.Run(tc.settings+tc.from, func(t *testing.T) {
			t.Parallel()
			src := tc.settings + "destinations:\n  ads: {type: google_ads, customer_id: 123-456-7890}\n" +
				"rules:\n  - name: r\n    send: [{to: ads, conversion_action: '1', caller_phone: hashed}]\n"
			r, err := Parse("rules.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			c := adsCall(tc.from, "", nil)
			ev := r.Evaluate(c)
			var got string
			if len(ev) == 1 {
				got = ev[0].Ads.HashedPhone
			}
			want := ""
			if tc.want != "" {
				want = userdata.HashPhone(tc.want)
			}
			if got != want {
				t.Errorf("hashed phone %q, want the hash of %q (%q)", got, tc.want, want)
			}
		})
	}
}
