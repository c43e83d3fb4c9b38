package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/callforward/callforward/forwarder/app"
)

func TestConfigFilePrecedence(t *testing.T) {
	clearEnv(t)
	file := writeFile(t, "forwarder.yaml", `
listen: 127.0.0.1:9999
workers: 3
send-timeout: 7s
retry-schedule: [1s, 2s, 3s]
allow-cidr:
  - 203.0.113.0/24
  - 198.51.100.7
data-dir: /from/file
`, 0o600)
	t.Setenv("FORWARDER_WORKERS", "5")
	t.Setenv("FORWARDER_DATA_DIR", "/from/env")
	cfg := app.Defaults()
	level, format := "info", "auto"
	fs := newFlagSet("serve", IO{Stderr: &strings.Builder{}})
	serveFlags(fs, &cfg, &level, &format)
	if err := parse(fs, []string{"--config", file, "--data-dir", "/from/flag"}); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen (file)", cfg.Listen, "127.0.0.1:9999"},
		{"workers (env beats file)", cfg.Workers, 5},
		{"data-dir (flag beats env and file)", cfg.Store.DataDir, "/from/flag"},
		{"send-timeout (file)", cfg.SendTimeout, 7 * time.Second},
		{"retry-schedule (file list)", durationList{&cfg.RetrySchedule}.String(), "1s,2s,3s"},
		{"allow-cidr (file list)", prefixList{&cfg.AllowCIDRs}.String(), "203.0.113.0/24,198.51.100.7/32"},
		{"shutdown-grace (default)", cfg.ShutdownGrace, app.Defaults().ShutdownGrace},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConfigFileErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct{ name, doc, want string }{
		{"unknown setting", "listen: :1\nworkrs: 3\n", `forwarder.yaml:2:1: unknown setting "workrs"`},
		{"bad value", "workers: many\n", "forwarder.yaml:1:10: workers:"},
		{"not a mapping", "- a\n- b\n", "want a mapping"},
		{"nested value", "listen: {a: 1}\n", "forwarder.yaml:1:9: listen: want a value or a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, "forwarder.yaml", tt.doc, 0o600)
			cfg := app.Defaults()
			level, format := "info", "auto"
			fs := newFlagSet("serve", IO{Stderr: &strings.Builder{}})
			serveFlags(fs, &cfg, &level, &format)
			err := parse(fs, []string{"--config", file})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
