package cli

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"
)

// EnvPrefix prefixes the environment twin of every flag: --data-dir is
// also FORWARDER_DATA_DIR.
const EnvPrefix = "FORWARDER_"

// envName is the environment twin of a flag name.
func envName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args, then fills every flag not given on the command line
// from its environment twin, then, when the flag set has a --config flag
// naming a file, from that YAML file. Precedence: flag > environment >
// file > default.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, serr)
			}
			given[f.Name] = true
		}
	})
	if err != nil {
		return err
	}
	if cf := fs.Lookup("config"); cf != nil && cf.Value.String() != "" {
		return applyConfigFile(fs, cf.Value.String(), given)
	}
	return nil
}

// durationList is a comma-separated list of durations ("5s,30s,2m").
type durationList struct{ v *[]time.Duration }

func (d durationList) String() string {
	if d.v == nil {
		return ""
	}
	parts := make([]string, len(*d.v))
	for i, x := range *d.v {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

func (d durationList) Set(s string) error {
	var out []time.Duration
	for p := range strings.SplitSeq(s, ",") {
		x, err := time.ParseDuration(strings.TrimSpace(p))
		if err != nil {
			return err
		}
		out = append(out, x)
	}
	*d.v = out
	return nil
}

// prefixList is a comma-separated list of networks (CIDR) or addresses.
type prefixList struct{ v *[]netip.Prefix }

func (p prefixList) String() string {
	if p.v == nil {
		return ""
	}
	parts := make([]string, len(*p.v))
	for i, x := range *p.v {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}

func (p prefixList) Set(s string) error {
	*p.v = nil
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(part)
		if err != nil {
			addr, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return fmt.Errorf("%q is neither a network (CIDR) nor an address", part)
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		*p.v = append(*p.v, pfx.Masked())
	}
	return nil
}
