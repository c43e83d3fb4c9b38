package httpapi_test

import (
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/httpapi"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  httpapi.Config
		want string // "" for valid; else a part of the error
	}{
		{"zero value", httpapi.Config{}, ""},
		{"everything set", httpapi.Config{
			Tokens: []string{tokenA}, MaxBody: 1 << 20, SignatureSecret: []byte("k"), SignatureHeader: "X-Hub-Signature-256",
			AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::1/128")},
			RateLimit: 2.5, RateBurst: 10,
		}, ""},
		{"negative max body", httpapi.Config{MaxBody: -1}, "max body"},
		{"negative rate", httpapi.Config{RateLimit: -1}, "rate limit"},
		{"NaN rate", httpapi.Config{RateLimit: math.NaN()}, "rate limit"},
		{"infinite rate", httpapi.Config{RateLimit: math.Inf(1)}, "rate limit"},
		{"negative burst", httpapi.Config{RateBurst: -1}, "rate burst"},
		{"header with a space", httpapi.Config{SignatureSecret: []byte("k"), SignatureHeader: "X Sig"}, "signature header"},
		{"header without a secret", httpapi.Config{SignatureHeader: "X-Sig"}, "without a signature secret"},
		{"zero prefix in the allowlist", httpapi.Config{AllowCIDRs: []netip.Prefix{{}}}, "allowed network"},
		{"zero prefix in the proxies", httpapi.Config{TrustedProxies: []netip.Prefix{{}}}, "trusted proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error about %q", err, tt.want)
			}
		})
	}
}
