package httpapi

import (
	"net/http"
	"net/netip"
	"strings"
)

// prefixes is a list of networks.
type prefixes []netip.Prefix

// newPrefixes masks each prefix and unmaps IPv4-in-IPv6 ones, so that a
// list written either way matches the addresses clientIP returns.
func newPrefixes(ps []netip.Prefix) prefixes {
	out := make(prefixes, 0, len(ps))
	for _, p := range ps {
		if !p.IsValid() {
			continue
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out
}

func (ps prefixes) contains(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP returns the address of the client that sent r: the TCP peer,
// or, only when the peer is one of the trusted proxies, the right-most
// address of X-Forwarded-For that is not a trusted proxy (each proxy
// appends the address it received the request from, so everything left of
// that entry was written by the client and proves nothing). When every
// entry is a trusted proxy, the left-most is the client.
//
// It returns the zero Addr when the client cannot be known: a peer address
// that does not parse (a Unix socket) or a forwarded entry that does not;
// such a client matches no allowlist.
//
// The framework's own client address logic is not used: it trusts every
// proxy unless told otherwise, which lets any client choose its address.
func clientIP(r *http.Request, trusted prefixes) netip.Addr {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !trusted.contains(peer) {
		return peer
	}
	client := peer
	headers := r.Header.Values("X-Forwarded-For")
	for i := len(headers) - 1; i >= 0; i-- {
		entries := strings.Split(headers[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a := parseAddr(strings.TrimSpace(entries[j]))
			if !a.IsValid() {
				return netip.Addr{}
			}
			if !trusted.contains(a) {
				return a
			}
			client = a
		}
	}
	return client
}

// parseAddr reads "ip", "ip:port" or "[ipv6]:port", without zone and with
// IPv4-in-IPv6 unmapped; the zero Addr when s is none of them.
func parseAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone("")
}
