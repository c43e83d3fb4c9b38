package cli

import (
	"bufio"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// secretsOnly covers the GA4 stream of ga4Rules but has no webhook token.
const secretsOnly = `{"ga4_api_secrets": {"G-HARBOUR01": "api-secret"}}`

func TestServeRefusesToStart(t *testing.T) {
	tests := []struct {
		name       string
		creds      string // credentials file content; "" for no --credentials
		args       []string
		env        map[string]string
		wantCode   int
		wantStderr []string
	}{
		{
			name:       "no credentials file",
			wantCode:   1,
			wantStderr: []string{"no credentials file given", "--insecure-no-auth"},
		},
		{
			name:       "credentials without a webhook token",
			creds:      secretsOnly,
			wantCode:   1,
			wantStderr: []string{"no webhook token", "--insecure-no-auth"},
		},
		{
			name:       "credentials without the rules' GA4 secret",
			creds:      `{"webhook_tokens": ["0123456789abcdef0123"]}`,
			wantCode:   1,
			wantStderr: []string{"no GA4 API secret for [G-HARBOUR01]"},
		},
		{
			name:       "an unknown flag",
			creds:      goodCredentials,
			args:       []string{"--port", "8080"},
			wantCode:   2,
			wantStderr: []string{"flag provided but not defined: -port"},
		},
		{
			name:       "a stray argument",
			creds:      goodCredentials,
			args:       []string{"now"},
			wantCode:   2,
			wantStderr: []string{`unexpected arguments: ["now"]`},
		},
		{
			name:       "a bad listen address from the environment",
			creds:      goodCredentials,
			env:        map[string]string{"FORWARDER_LISTEN": "bad-address"},
			wantCode:   1,
			wantStderr: []string{"forwarder serve: listen:", "bad-address"},
		},
		{
			name:       "a bad value in the environment",
			creds:      goodCredentials,
			env:        map[string]string{"FORWARDER_WORKERS": "many"},
			wantCode:   2,
			wantStderr: []string{`FORWARDER_WORKERS="many"`},
		},
		{
			name:       "a lease no longer than the send timeout",
			creds:      goodCredentials,
			args:       []string{"--lease", "10s", "--send-timeout", "10s"},
			wantCode:   1,
			wantStderr: []string{"lease (10s) must exceed send-timeout (10s) by more than a tenth of itself"},
		},
		{
			// A delivery is sent only while its lease has the send timeout
			// and a tenth of a lease left: nothing could ever be sent.
			name:       "a lease too close to the send timeout",
			creds:      goodCredentials,
			args:       []string{"--lease", "10s", "--send-timeout", "9500ms"},
			wantCode:   1,
			wantStderr: []string{"lease (10s) must exceed send-timeout (9.5s) by more than a tenth of itself"},
		},
		{
			name:       "an empty retry schedule entry",
			creds:      goodCredentials,
			args:       []string{"--retry-schedule", "5s,,1m"},
			wantCode:   2,
			wantStderr: []string{`invalid value "5s,,1m" for flag -retry-schedule`},
		},
		{
			name:       "a bad log level",
			creds:      goodCredentials,
			args:       []string{"--log-level", "loud"},
			wantCode:   1,
			wantStderr: []string{`log-level "loud"`},
		},
		{
			name:       "a bad log format",
			creds:      goodCredentials,
			args:       []string{"--log-format", "xml"},
			wantCode:   1,
			wantStderr: []string{`log-format "xml"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := []string{"serve", "--rules", ga4Rules, "--data-dir", filepath.Join(t.TempDir(), "data")}
			if tt.env["FORWARDER_LISTEN"] == "" {
				args = append(args, "--listen", "127.0.0.1:0")
			}
			if tt.creds != "" {
				args = append(args, "--credentials", writeFile(t, "credentials.json", tt.creds, 0o600))
			}
			r := run(t, nil, append(args, tt.args...)...)
			if r.code != tt.wantCode {
				t.Errorf("exit %d, want %d\n%v", r.code, tt.wantCode, r)
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr does not contain %q\n%v", s, r)
				}
			}
		})
	}
}

// listeningAddr returns the address in serve's "forwarder listening" log
// line, or "" when it has not been logged yet.
func listeningAddr(stderr string) string {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		var line struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "forwarder listening" {
			return line.Addr
		}
	}
	return ""
}

// TestServeRunsUntilCancelled starts serve in-process, checks that it
// answers on the address it logged, cancels its context and expects a
// graceful stop with exit 0.
func TestServeRunsUntilCancelled(t *testing.T) {
	tests := []struct {
		name  string
		creds string // credentials file content
		args  []string
		env   map[string]string // "CREDS" and "DATA" stand for the paths
	}{
		{
			name:  "without auth, for a local test",
			creds: secretsOnly,
			args:  []string{"--listen", "127.0.0.1:0", "--insecure-no-auth", "--log-format", "json"},
		},
		{
			name:  "--listen beats FORWARDER_LISTEN",
			creds: goodCredentials,
			args:  []string{"--listen", "127.0.0.1:0"},
			env:   map[string]string{"FORWARDER_LISTEN": "bad-address"},
		},
		{
			name:  "configured by the environment alone",
			creds: goodCredentials,
			env: map[string]string{
				"FORWARDER_LISTEN":      "127.0.0.1:0",
				"FORWARDER_RULES":       ga4Rules,
				"FORWARDER_DATA_DIR":    "DATA",
				"FORWARDER_CREDENTIALS": "CREDS",
				"FORWARDER_LOG_LEVEL":   "debug",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			creds := writeFile(t, "credentials.json", tt.creds, 0o600)
			data := filepath.Join(t.TempDir(), "data")
			for k, v := range tt.env {
				t.Setenv(k, strings.NewReplacer("CREDS", creds, "DATA", data).Replace(v))
			}
			args := []string{"serve"}
			if tt.env["FORWARDER_RULES"] == "" {
				args = append(args, "--rules", ga4Rules, "--data-dir", data, "--credentials", creds)
			}
			args = append(args, tt.args...)

			var health int
			r := runUntil(t, func(_, stderr string) bool {
				addr := listeningAddr(stderr)
				if addr == "" {
					return false
				}
				res, err := http.Get("http://" + addr + "/healthz")
				if err != nil {
					t.Fatalf("GET /healthz on %s: %v", addr, err)
				}
				res.Body.Close()
				health = res.StatusCode
				return true
			}, args...)
			if health != http.StatusOK {
				t.Errorf("GET /healthz = %d, want 200", health)
			}
			if r.code != 0 {
				t.Errorf("exit %d after the context was cancelled, want 0\n%v", r.code, r)
			}
			if !strings.Contains(r.stderr, "forwarder stopped") {
				t.Errorf("stderr does not log the stop\n%v", r)
			}
			if strings.Contains(r.stderr, "api-secret") || strings.Contains(r.stderr, "0123456789abcdef0123") {
				t.Errorf("log shows a secret\n%v", r)
			}
		})
	}
}
