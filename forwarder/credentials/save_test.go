package credentials

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestSaveOAuthClient checks that the OAuth client is set, every other key
// kept, and the file left with mode 0600, whether it existed or not.
func TestSaveOAuthClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		existing string // "" : no file
		mode     os.FileMode
		keep     map[string]string // top-level key -> its JSON, kept as is
	}{
		{name: "no file"},
		{
			name:     "keys kept, old client replaced",
			existing: `{"webhook_tokens":["0123456789abcdef0"],"ga4_api_secrets":{"G-ABC123":"s3cr3t"},"google":{"developer_token":"dev","oauth_client":{"client_id":"old","client_secret":"old","refresh_token":"old"}},"webhook_signature_secret":"sig-key"}`,
			mode:     0o644,
			keep: map[string]string{
				"webhook_tokens":           `["0123456789abcdef0"]`,
				"ga4_api_secrets":          `{"G-ABC123":"s3cr3t"}`,
				"webhook_signature_secret": `"sig-key"`,
			},
		},
		{name: "google null", existing: `{"google":null}`, mode: 0o600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "credentials.json")
			if tc.existing != "" {
				if err := os.WriteFile(path, []byte(tc.existing), tc.mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			want := OAuthClient{ClientID: "id.apps.googleusercontent.com", ClientSecret: "cs-1", RefreshToken: "1//rt-1"}
			if err := SaveOAuthClient(path, want); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("mode %04o, want 0600", st.Mode().Perm())
			}
			f, err := Load(path)
			if err != nil {
				t.Fatalf("the written file does not load: %v", err)
			}
			if got := f.Google.OAuthClient; got == nil || got.ClientID != want.ClientID || got.ClientSecret.Reveal() != "cs-1" || got.RefreshToken.Reveal() != "1//rt-1" {
				t.Errorf("oauth_client %+v, want %+v", got, want)
			}
			data, _ := os.ReadFile(path)
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.keep {
				if got, _ := json.Marshal(doc[k]); !jsonEqual(t, got, []byte(v)) {
					t.Errorf("%s = %s, want %s kept", k, doc[k], v)
				}
			}
			if tc.keep != nil && (f.Google.DeveloperToken.Reveal() != "dev") {
				t.Error("google.developer_token was not kept")
			}
			if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp")); len(matches) > 0 {
				t.Errorf("temporary files left: %v", matches)
			}
		})
	}
}

// TestSaveOAuthClientRefusesBrokenFile checks that a file that is not a
// JSON object is left alone.
func TestSaveOAuthClientRefusesBrokenFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SaveOAuthClient(path, OAuthClient{ClientID: "a", ClientSecret: "b", RefreshToken: "c"}); err == nil {
		t.Fatal("want an error for a broken file")
	}
	if data, _ := os.ReadFile(path); string(data) != "{not json" {
		t.Errorf("the file was changed to %q", data)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
