package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callforward/callforward/mapping"
)

// writeFile writes data to name in a fresh temporary directory with the
// given mode and returns its path.
func writeFile(t *testing.T, name, data string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return p
}

// goodCredentials covers ga4Rules.
const goodCredentials = `{"webhook_tokens": ["0123456789abcdef0123"], "ga4_api_secrets": {"G-HARBOUR01": "api-secret"}}`

func TestCheckRules(t *testing.T) {
	clearEnv(t)
	examples, err := mapping.Load(exampleRules)
	if err != nil {
		t.Fatal(err)
	}
	examplesOK := fmt.Sprintf("%s: ok (%d destinations, %d rules)", exampleRules, len(examples.Destinations()), len(examples.RuleNames()))
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings, in order of appearance not required
		wantStderr []string
	}{
		{
			name:       "the example rules",
			args:       []string{"--rules", exampleRules},
			wantStdout: []string{examplesOK},
		},
		{
			name:       "pinned rules",
			args:       []string{"--rules", ga4Rules},
			wantStdout: []string{ga4Rules + ": ok (1 destinations, 2 rules)"},
		},
		{
			name:     "a rule sends to an undefined destination",
			args:     []string{"--rules", "testdata/check/undefined-destination.yaml"},
			wantCode: 1,
			wantStdout: []string{
				`testdata/check/undefined-destination.yaml:9:13: rule "every-call": destination "webiste" is not defined`,
				"did you mean website?",
			},
			wantStderr: []string{"the rules file has errors"},
		},
		{
			name:       "a misspelt key",
			args:       []string{"--rules", "testdata/check/unknown-key.yaml"},
			wantCode:   1,
			wantStdout: []string{`testdata/check/unknown-key.yaml:8:5: rule #1: unknown key "wen" in a rule (did you mean when?)`},
			wantStderr: []string{"the rules file has errors"},
		},
		{
			name:       "a Universal Analytics id",
			args:       []string{"--rules", "testdata/check/bad-measurement-id.yaml"},
			wantCode:   1,
			wantStdout: []string{`testdata/check/bad-measurement-id.yaml:4:21: destination "website": measurement_id "UA-12345-1" is not a GA4 measurement id`},
		},
		{
			// The YAML parser reports a line, not a column.
			name:       "a YAML syntax error",
			args:       []string{"--rules", "testdata/check/syntax-error.yaml"},
			wantCode:   1,
			wantStdout: []string{"testdata/check/syntax-error.yaml:5: YAML syntax"},
		},
		{
			name:       "a missing rules file",
			args:       []string{"--rules", "testdata/check/no-such-file.yaml"},
			wantCode:   1,
			wantStdout: []string{"no-such-file.yaml"},
			wantStderr: []string{"the rules file has errors"},
		},
		{
			name:       "online without credentials",
			args:       []string{"--rules", ga4Rules, "--online"},
			wantCode:   1,
			wantStderr: []string{"--online needs --credentials"},
		},
		{
			name:       "an unknown flag",
			args:       []string{"--rulez", exampleRules},
			wantCode:   2,
			wantStderr: []string{"flag provided but not defined: -rulez"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, append([]string{"check"}, tt.args...)...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%v", r.code, tt.wantCode, r)
			}
			for _, s := range tt.wantStdout {
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout does not contain %q\n%v", s, r)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr does not contain %q\n%v", s, r)
				}
			}
		})
	}
}

func TestCheckCredentials(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name       string
		rules      string // ga4Rules unless set
		creds      string
		mode       os.FileMode
		wantCode   int
		wantStdout []string // "CREDS" stands for the credentials file's path
		wantStderr []string
	}{
		{
			name:       "covering the rules",
			creds:      goodCredentials,
			mode:       0o600,
			wantStdout: []string{`destination "website": GA4 G-HARBOUR01 has an API secret`, "CREDS: ok"},
		},
		{
			name:       "without the rules' GA4 secret",
			creds:      `{"webhook_tokens": ["0123456789abcdef0123"], "ga4_api_secrets": {"G-ELSEWHERE1": "api-secret"}}`,
			mode:       0o600,
			wantCode:   1,
			wantStdout: []string{`destination "website": no GA4 API secret for G-HARBOUR01 in CREDS`},
			wantStderr: []string{"the credentials do not cover the rules"},
		},
		{
			name:       "without the example rules' GA4 secret",
			rules:      exampleRules,
			creds:      `{"webhook_tokens": ["0123456789abcdef0123"], "ga4_api_secrets": {"G-ELSEWHERE1": "api-secret"}}`,
			mode:       0o600,
			wantCode:   1,
			wantStdout: []string{`destination "website": no GA4 API secret for G-HARBOUR01 in CREDS`},
			wantStderr: []string{"the credentials do not cover the rules"},
		},
		{
			name:       "without webhook tokens",
			creds:      `{"ga4_api_secrets": {"G-HARBOUR01": "api-secret"}}`,
			mode:       0o600,
			wantStdout: []string{"warning: no webhook_tokens: serve will need FORWARDER_WEBHOOK_TOKENS", "CREDS: ok"},
		},
		{
			name:       "readable by others",
			creds:      goodCredentials,
			mode:       0o644,
			wantStdout: []string{"warning: CREDS is readable by other users", "chmod 600", "CREDS: ok"},
		},
		{
			name:       "not JSON",
			creds:      `webhook_tokens: [x]`,
			mode:       0o600,
			wantCode:   1,
			wantStdout: []string{"credentials: CREDS: invalid JSON"},
			wantStderr: []string{"the credentials file has errors"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules := tt.rules
			if rules == "" {
				rules = ga4Rules
			}
			path := writeFile(t, "credentials.json", tt.creds, tt.mode)
			r := run(t, nil, "check", "--rules", rules, "--credentials", path)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%v", r.code, tt.wantCode, r)
			}
			for _, s := range tt.wantStdout {
				s = strings.ReplaceAll(s, "CREDS", path)
				if !strings.Contains(r.stdout, s) {
					t.Errorf("stdout does not contain %q\n%v", s, r)
				}
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr does not contain %q\n%v", s, r)
				}
			}
			if strings.Contains(r.stdout+r.stderr, "api-secret") || strings.Contains(r.stdout+r.stderr, "0123456789abcdef0123") {
				t.Errorf("output shows a secret\n%v", r)
			}
		})
	}
}
