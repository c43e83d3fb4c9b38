package httpapi

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := newPrefixes([]netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::ffff:192.168.1.0/120"), // written IPv4-in-IPv6
		netip.MustParsePrefix("fd00::/8"),
	})
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string // "" for unknown
	}{
		{"untrusted peer, no header", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"untrusted peer's header is ignored", "203.0.113.7:5000", []string{"10.1.1.1"}, "203.0.113.7"},
		{"trusted peer without header", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"trusted peer, one client", "10.0.0.1:5000", []string{"198.51.100.4"}, "198.51.100.4"},
		{"spoofed left entries are skipped", "10.0.0.1:5000", []string{"1.1.1.1, 2.2.2.2, 198.51.100.4"}, "198.51.100.4"},
		{"chain of trusted proxies", "10.0.0.1:5000", []string{"198.51.100.4, 10.9.9.9, 10.8.8.8"}, "198.51.100.4"},
		{"every entry trusted: the left-most", "10.0.0.1:5000", []string{"10.3.3.3, 10.2.2.2"}, "10.3.3.3"},
		{"several headers read as one list", "10.0.0.1:5000", []string{"198.51.100.4", "203.0.113.9"}, "203.0.113.9"},
		{"several headers, trusted last", "10.0.0.1:5000", []string{"198.51.100.4", "10.2.2.2"}, "198.51.100.4"},
		{"garbage right of the client", "10.0.0.1:5000", []string{"198.51.100.4, garbage"}, ""},
		{"garbage left of the client is not read", "10.0.0.1:5000", []string{"garbage, 198.51.100.4"}, "198.51.100.4"},
		{"empty entry", "10.0.0.1:5000", []string{"198.51.100.4, "}, ""},
		{"entry with a port", "10.0.0.1:5000", []string{"198.51.100.4:443"}, "198.51.100.4"},
		{"IPv6 entry with a port", "10.0.0.1:5000", []string{"[2001:db8::1]:443"}, "2001:db8::1"},
		{"IPv6 peer trusted", "[fd00::1]:5000", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv6 peer with a zone", "[fe80::1%eth0]:5000", nil, "fe80::1"},
		{"IPv4-in-IPv6 peer, prefix written either way", "[::ffff:192.168.1.5]:5000", []string{"198.51.100.4"}, "198.51.100.4"},
		{"IPv4-in-IPv6 entry is unmapped", "10.0.0.1:5000", []string{"::ffff:198.51.100.4"}, "198.51.100.4"},
		{"unix socket peer", "@", nil, ""},
		{"empty peer", "", []string{"198.51.100.4"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := clientIP(r, trusted)
			if tt.want == "" {
				if got.IsValid() {
					t.Errorf("client %v, want unknown", got)
				}
				return
			}
			if got != netip.MustParseAddr(tt.want) {
				t.Errorf("client %v, want %s", got, tt.want)
			}
		})
	}
}

func TestPrefixes(t *testing.T) {
	ps := newPrefixes([]netip.Prefix{netip.MustParsePrefix("10.1.2.3/8"), {}})
	if len(ps) != 1 || ps[0] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Fatalf("prefixes %v, want [10.0.0.0/8] (masked, invalid dropped)", ps)
	}
	if !ps.contains(netip.MustParseAddr("10.200.0.1")) || ps.contains(netip.MustParseAddr("11.0.0.1")) {
		t.Errorf("contains wrong for %v", ps)
	}
}
