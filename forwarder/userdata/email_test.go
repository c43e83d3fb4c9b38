package userdata

import (
	"errors"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw     string
		want    string
		wantErr bool
	}{
		// Google's examples (Data Manager formatting guide).
		{"cloudy.sanfrancisco+shopping@gmail.com", "cloudysanfrancisco@gmail.com", false},
		{"user.name+NYC@Example.com", "user.name+nyc@example.com", false},
		// Every dot goes, not only the first.
		{"j.a.n.e.d.o.e@gmail.com", "janedoe@gmail.com", false},
		{"Jane.Doe@GoogleMail.com", "janedoe@googlemail.com", false},
		{"  JDoe@Example.com \t", "jdoe@example.com", false},
		{"jane doe@gmail.com", "janedoe@gmail.com", false},
		{"first.last@example.co.uk", "first.last@example.co.uk", false},
		{"dots.kept@gmail.com.au", "dots.kept@gmail.com.au", false},
		{"", "", true},
		{"   ", "", true},
		{"no-at-sign", "", true},
		{"@gmail.com", "", true},
		{"jane@", "", true},
		{"...@gmail.com", "", true},
		{"+tag@gmail.com", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			got, err := NormalizeEmail(tc.raw)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidEmail) || got != "" {
					t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalidEmail", tc.raw, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
			}
		})
	}
}

func TestHashEmail(t *testing.T) {
	t.Parallel()
	// Expected values computed independently with
	//   printf '%s' '<address>' | sha256sum
	tests := []struct {
		raw  string
		want string
	}{
		{"jdoe@example.com", "a8af8341993604f29cd4e0e5a5a4b5d48c575436c38b28abbfd7d481f345d5db"},
		{"Jane.Doe@gmail.com", "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"},                     // janedoe@gmail.com
		{"cloudy.sanfrancisco+shopping@gmail.com", "223ebda6f6889b1494551ba902d9d381daf2f642bae055888e96343d53e9f9c4"}, // cloudysanfrancisco@gmail.com
		{"user.name+NYC@Example.com", "f109a2a632fbcea5fc82049f50beed3d8621bf9034399f437fb622222acccdac"},              // user.name+nyc@example.com
		{"john.smith@googlemail.com", "b1dd4aa5ffe1507d6883708fdf4f7a88d176b107097b541c6975a70e2b8ffbb8"},              // johnsmith@googlemail.com
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			norm, err := NormalizeEmail(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := HashEmail(norm); got != tc.want {
				t.Errorf("HashEmail(%q) = %s, want %s", norm, got, tc.want)
			}
		})
	}
}
