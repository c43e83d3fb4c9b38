package cli

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{
		"listen":           "FORWARDER_LISTEN",
		"data-dir":         "FORWARDER_DATA_DIR",
		"insecure-no-auth": "FORWARDER_INSECURE_NO_AUTH",
	} {
		if got := envName(flagName); got != want {
			t.Errorf("envName(%q) = %q, want %q", flagName, got, want)
		}
	}
}

func TestParseEnvTwins(t *testing.T) {
	type values struct {
		Listen   string
		Workers  int
		NoAuth   bool
		Schedule []time.Duration
	}
	defaults := values{Listen: ":8080", Workers: 8, Schedule: []time.Duration{5 * time.Second}}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    values
		wantErr string // substring; "" for no error
	}{
		{name: "defaults", want: defaults},
		{
			name: "environment fills flags not given",
			env:  map[string]string{"FORWARDER_LISTEN": "127.0.0.1:9000", "FORWARDER_WORKERS": "2", "FORWARDER_INSECURE_NO_AUTH": "true", "FORWARDER_RETRY_SCHEDULE": "1s,2m"},
			want: values{Listen: "127.0.0.1:9000", Workers: 2, NoAuth: true, Schedule: []time.Duration{time.Second, 2 * time.Minute}},
		},
		{
			name: "a flag beats its environment twin",
			args: []string{"--listen", "127.0.0.1:1", "--workers=3"},
			env:  map[string]string{"FORWARDER_LISTEN": "bad-address", "FORWARDER_WORKERS": "many"},
			want: values{Listen: "127.0.0.1:1", Workers: 3, Schedule: defaults.Schedule},
		},
		{
			name:    "a bad environment value names the variable",
			env:     map[string]string{"FORWARDER_WORKERS": "many"},
			wantErr: `FORWARDER_WORKERS="many"`,
		},
		{
			name:    "a bad duration list in the environment",
			env:     map[string]string{"FORWARDER_RETRY_SCHEDULE": "5s,soon"},
			wantErr: `FORWARDER_RETRY_SCHEDULE="5s,soon"`,
		},
		{
			name:    "a bad flag",
			args:    []string{"--workers", "many"},
			wantErr: `invalid value "many" for flag -workers`,
		},
		{
			name:    "an unknown flag",
			args:    []string{"--listn", ":1"},
			wantErr: "flag provided but not defined: -listn",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := defaults
			got.Schedule = append([]time.Duration(nil), defaults.Schedule...)
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			fs.StringVar(&got.Listen, "listen", got.Listen, "")
			fs.IntVar(&got.Workers, "workers", got.Workers, "")
			fs.BoolVar(&got.NoAuth, "insecure-no-auth", got.NoAuth, "")
			fs.Var(durationList{&got.Schedule}, "retry-schedule", "")

			err := parse(fs, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parsed %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDurationList(t *testing.T) {
	tests := []struct {
		in      string
		want    []time.Duration
		wantStr string
		wantErr bool
	}{
		{in: "5s,30s,2m", want: []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute}, wantStr: "5s,30s,2m0s"},
		{in: " 1s , 1h30m ", want: []time.Duration{time.Second, 90 * time.Minute}, wantStr: "1s,1h30m0s"},
		{in: "250ms", want: []time.Duration{250 * time.Millisecond}, wantStr: "250ms"},
		{in: "", wantErr: true},
		{in: "5s,,10s", wantErr: true},
		{in: "5s,later", wantErr: true},
		{in: "5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			before := []time.Duration{time.Hour}
			v := before
			d := durationList{&v}
			err := d.Set(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Set(%q) = nil error, want an error (value became %v)", tt.in, v)
				}
				if !reflect.DeepEqual(v, before) {
					t.Errorf("failed Set(%q) changed the value to %v, want it kept as %v", tt.in, v, before)
				}
				return
			}
			if err != nil {
				t.Fatalf("Set(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(v, tt.want) {
				t.Errorf("Set(%q) gave %v, want %v", tt.in, v, tt.want)
			}
			if got := d.String(); got != tt.wantStr {
				t.Errorf("String() = %q, want %q", got, tt.wantStr)
			}
		})
	}
	if got := (durationList{}).String(); got != "" {
		t.Errorf("zero durationList String() = %q, want empty", got)
	}
}
