package userdata

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		region  string
		want    string
		wantErr error
	}{
		// Google's examples (Ads enhanced conversions, Data Manager
		// formatting guide).
		{"google example international", "+1 800-555-0100", "", "+18005550100", nil},
		{"google example national US", "(800)555-0100", "US", "+18005550100", nil},
		{"already E.164", "+18005550100", "AU", "+18005550100", nil},
		{"AU mobile national", "0412 345 678", "AU", "+61412345678", nil},
		{"AU mobile E.164", "+61412345678", "", "+61412345678", nil},
		{"AU landline with brackets", "+61 (2) 9123-4567", "", "+61291234567", nil},
		{"AU landline national", "(02) 9123 4567", "AU", "+61291234567", nil},
		{"country code without plus", "61412345678", "AU", "+61412345678", nil},
		{"surrounding spaces", "  +61 412 345 678\n", "", "+61412345678", nil},
		{"UK London", "+44 20 7946 0018", "AU", "+442079460018", nil},
		{"UK national in UK", "020 7946 0018", "GB", "+442079460018", nil},
		{"empty", "", "AU", "", ErrNoPhone},
		{"blank", "   ", "AU", "", ErrNoPhone},
		{"anonymous", "anonymous", "AU", "", ErrAnonymous},
		{"Anonymous capitalised", "Anonymous", "AU", "", ErrAnonymous},
		{"withheld", "WITHHELD", "", "", ErrAnonymous},
		{"national without a region", "0412 345 678", "", "", ErrInvalidPhone},
		{"too short", "12", "AU", "", ErrInvalidPhone},
		{"too short international", "+61 4123", "", "", ErrInvalidPhone},
		{"unknown country code", "+999 1234 5678", "", "", ErrInvalidPhone},
		{"letters", "call me", "AU", "", ErrInvalidPhone},
		{"impossible AU number", "+61 0000 0000", "", "", ErrInvalidPhone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizePhone(tc.raw, tc.region)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || got != "" {
					t.Fatalf("NormalizePhone(%q, %q) = %q, %v; want error %v", tc.raw, tc.region, got, err, tc.wantErr)
				}
				if digits := strings.TrimSpace(tc.raw); len(digits) > 3 && strings.Contains(err.Error(), digits) {
					t.Errorf("error %q quotes the number", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizePhone(%q, %q) = %q, %v; want %q", tc.raw, tc.region, got, err, tc.want)
			}
		})
	}
}

func TestHashPhone(t *testing.T) {
	t.Parallel()
	// Expected values computed independently with
	//   printf '%s' '<number>' | sha256sum
	tests := []struct {
		e164 string
		want string
	}{
		{"+18005550100", "fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30"},
		{"+61412345678", "bc65da54a3ddbacfdc93a0400f0a2d78e41c2180c8255015e9616facfe56f58a"},
		{"+61291234567", "e170137458e094624002256584e09d686f999b9ca98d052dfb927bde13a88d43"},
		{"+442079460018", "faad3b10918e39b5f4d5334f1e1e128719608e8bd3ad3b963dc30187b4518e23"},
	}
	for _, tc := range tests {
		t.Run(tc.e164, func(t *testing.T) {
			t.Parallel()
			if got := HashPhone(tc.e164); got != tc.want {
				t.Errorf("HashPhone(%q) = %s, want %s", tc.e164, got, tc.want)
			}
		})
	}
	t.Run("normalise then hash", func(t *testing.T) {
		t.Parallel()
		e164, err := NormalizePhone("+1 800-555-0100", "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := HashPhone(e164), tests[0].want; got != want {
			t.Errorf("HashPhone(NormalizePhone(\"+1 800-555-0100\")) = %s, want %s", got, want)
		}
	})
}

func TestKnownRegion(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]bool{"AU": true, "US": true, "GB": true, "NZ": true, "au": false, "UK": false, "": false, "ZZ": false, "AUS": false} {
		if got := KnownRegion(region); got != want {
			t.Errorf("KnownRegion(%q) = %v, want %v", region, got, want)
		}
	}
}

func BenchmarkNormalizeAndHashPhone(b *testing.B) {
	for b.Loop() {
		e164, err := NormalizePhone("+61412345678", "AU")
		if err != nil {
			b.Fatal(err)
		}
		_ = HashPhone(e164)
	}
}
