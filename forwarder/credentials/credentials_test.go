package credentials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"minimal", `{"webhook_tokens":["0123456789abcdef"],"ga4_api_secrets":{"G-ABC123":"s3cr3t"}}`, ""},
		{"oauth client", `{"google":{"oauth_client":{"client_id":"id","client_secret":"cs","refresh_token":"rt"}}}`, ""},
		{"unknown key", `{"webhook_token":["x"]}`, `unknown field "webhook_token"`},
		{"short token", `{"webhook_tokens":["short"]}`, "webhook_tokens[0]: too short"},
		{"not a measurement id", `{"ga4_api_secrets":{"UA-1234-1":"x"}}`, "is not a GA4 measurement id"},
		{"empty secret", `{"ga4_api_secrets":{"G-ABC123":""}}`, "empty secret"},
		{"incomplete oauth", `{"google":{"oauth_client":{"client_id":"id"}}}`, "refresh_token are all required"},
		{"two service accounts", `{"google":{"service_account_key_file":"a.json","service_account_key":{"type":"service_account"}}}`, "not both"},
		{"secret not a string", `{"ga4_api_secrets":{"G-ABC123":42}}`, "must be a string"},
		{"admin token", `{"admin_tokens":[{"label":"dashboard","token":"0123456789abcdef"}]}`, ""},
		{"admin token without label", `{"admin_tokens":[{"token":"0123456789abcdef"}]}`, "admin_tokens[0]: label is required"},
		{"admin label twice", `{"admin_tokens":[{"label":"a","token":"0123456789abcdef"},{"label":"a","token":"fedcba9876543210"}]}`, `label "a" is used twice`},
		{"short admin token", `{"admin_tokens":[{"label":"a","token":"short"}]}`, "admin_tokens[0] (a): token too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	const raw = "very-secret-value"
	s := Secret(raw)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s)
	js, _ := json.Marshal(struct{ S Secret }{s})
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", s), "String": s.String(), "%#v": fmt.Sprintf("%#v", s),
		"slog": buf.String(), "json": string(js),
	} {
		if strings.Contains(out, raw) {
			t.Errorf("%s output reveals the secret: %s", name, out)
		}
	}
	if s.Reveal() != raw {
		t.Errorf("Reveal = %q, want %q", s.Reveal(), raw)
	}
}

func TestLoadAndPermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "credentials.json")
	doc := `{"webhook_tokens":["0123456789abcdef"],"ga4_api_secrets":{"G-ABC123":"s"}}`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	f.AddEnvTokens(" fedcba9876543210 ,, ")
	if got := f.Tokens(); len(got) != 2 || got[1] != "fedcba9876543210" {
		t.Errorf("Tokens = %q, want the file token and the env token", got)
	}
	if got := f.MissingGA4Secrets([]string{"G-ABC123", "G-ZZZ999"}); len(got) != 1 || got[0] != "G-ZZZ999" {
		t.Errorf("MissingGA4Secrets = %q, want [G-ZZZ999]", got)
	}
	if w := PermissionWarning(path); !strings.Contains(w, "chmod 600") {
		t.Errorf("PermissionWarning for 0644 = %q, want a chmod hint", w)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if w := PermissionWarning(path); w != "" {
		t.Errorf("PermissionWarning for 0600 = %q, want none", w)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("Load of a missing file: no error")
	}
}
