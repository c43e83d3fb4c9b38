package httpapi_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/callforward/callforward/forwarder/httpapi"
)

// TestAllowlist runs over a real listener, where the peer is 127.0.0.1.
func TestAllowlist(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	private := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	direct := newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA}, AllowCIDRs: private})
	local := newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA}, AllowCIDRs: loopback})
	proxied := newFixtureWith(t, httpapi.Config{Tokens: []string{tokenA}, AllowCIDRs: private, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})

	tests := []struct {
		name    string
		f       *fixture
		headers []string // name, value pairs
		noToken bool
		want    int
	}{
		{name: "peer not allowed", f: direct, want: 403},
		{name: "X-Forwarded-For from an untrusted peer is ignored", f: direct, headers: []string{"X-Forwarded-For", "10.1.2.3"}, want: 403},
		{name: "X-Real-IP is ignored", f: direct, headers: []string{"X-Real-IP", "10.1.2.3"}, want: 403},
		{name: "Forwarded is ignored", f: direct, headers: []string{"Forwarded", "for=10.1.2.3"}, want: 403},
		{name: "refused before the token is looked at", f: direct, noToken: true, want: 403},
		{name: "peer allowed", f: local, want: 200},
		{name: "allowed peer claiming another address", f: local, headers: []string{"X-Forwarded-For", "203.0.113.9"}, want: 200},
		{name: "allowed peer still needs its token", f: local, noToken: true, want: 401},
		{name: "trusted proxy forwarding an allowed client", f: proxied, headers: []string{"X-Forwarded-For", "10.1.2.3"}, want: 200},
		{name: "trusted proxy forwarding a client that spoofed an allowed address", f: proxied, headers: []string{"X-Forwarded-For", "10.1.2.3, 203.0.113.9"}, want: 403},
		{name: "the right-most untrusted entry decides", f: proxied, headers: []string{"X-Forwarded-For", "203.0.113.9, 10.1.2.3"}, want: 200},
		{name: "trusted proxy without X-Forwarded-For is itself the client", f: proxied, want: 403},
		{name: "unreadable X-Forwarded-For", f: proxied, headers: []string{"X-Forwarded-For", "10.1.2.3, not-an-address"}, want: 403},
		{name: "several X-Forwarded-For headers", f: proxied, headers: []string{"X-Forwarded-For", "10.1.2.3", "X-Forwarded-For", "203.0.113.9"}, want: 403},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var auth func(*http.Request)
			if !tt.noToken {
				auth = bearer(tokenA)
			}
			withHeaders := func(r *http.Request) {
				for j := 0; j+1 < len(tt.headers); j += 2 {
					r.Header.Add(tt.headers[j], tt.headers[j+1])
				}
				if auth != nil {
					auth(r)
				}
			}
			got := tt.f.post(t, "", formCT, []byte(validForm("CAallow"+string(rune('a'+i))).Encode()), withHeaders)
			if got.status != tt.want {
				t.Fatalf("status %d %v, want %d", got.status, got.body, tt.want)
			}
			if msg, _ := got.body["error"].(string); tt.want == 403 && !strings.Contains(msg, "address") {
				t.Errorf("403 error %q does not say the address is not allowed", msg)
			}
		})
	}
	t.Run("probes are not limited", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, direct.srv.URL+"/healthz", nil)
		if got := direct.do(t, req); got.status != 200 {
			t.Errorf("healthz from a refused address: %d, want 200", got.status)
		}
	})
}
