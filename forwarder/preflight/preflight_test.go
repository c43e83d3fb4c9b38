package preflight

import "testing"

func TestSecretProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		secret, want string
	}{
		{"Ab3dEfGh1jKlMnOpQrStUv", ""},
		{"", "missing"},
		{"replace-with-the-measurement-protocol-api-secret", "wrong: it is still a placeholder"},
		{"G-ABC123", "wrong: it is a measurement id, not an API secret"},
		{" Ab3dEfGh1jKlMnOpQrStUv", "wrong: it holds blanks or quotes (copied with its surroundings?)"},
		{`"Ab3dEfGh1jKlMnOpQrStUv"`, "wrong: it holds blanks or quotes (copied with its surroundings?)"},
		{"abc", "wrong: too short to be a Measurement Protocol API secret"},
	}
	for _, tc := range tests {
		if got := secretProblem(tc.secret, "G-ABC123"); got != tc.want {
			t.Errorf("secretProblem(%q) = %q, want %q", tc.secret, got, tc.want)
		}
	}
}

func TestFailed(t *testing.T) {
	t.Parallel()
	if Failed([]Result{{Status: OK}, {Status: Warn}}) {
		t.Error("ok and warn: want not failed")
	}
	if !Failed([]Result{{Status: OK}, {Status: Fail}}) {
		t.Error("a fail: want failed")
	}
}
