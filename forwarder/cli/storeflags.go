package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/callforward/callforward/forwarder/app"
	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
)

// storeFlags declares the flags that select the store, with serve's
// defaults, so operator commands open the store serve uses.
func storeFlags(fs *flag.FlagSet) *app.StoreConfig {
	cfg := app.Defaults().Store
	declareStoreFlags(fs, &cfg)
	return &cfg
}

// declareStoreFlags declares the store-selecting flags on fs, filling cfg.
func declareStoreFlags(fs *flag.FlagSet, cfg *app.StoreConfig) {
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the embedded store (used when --redis-url is not set)")
	fs.StringVar(&cfg.RedisURL, "redis-url", cfg.RedisURL, "shared Redis store, redis://[:password@]host:port/db or rediss://... (several instances may share it)")
	fs.StringVar(&cfg.Redis.Prefix, "redis-prefix", cfg.Redis.Prefix, "key prefix in Redis (keys are {prefix}:...); default callforward")
	fs.StringVar(&cfg.Redis.MasterName, "redis-sentinel-master", cfg.Redis.MasterName, "Sentinel master name: the --redis-url host and --redis-addrs are then sentinels")
	fs.BoolVar(&cfg.Redis.Cluster, "redis-cluster", cfg.Redis.Cluster, "Redis Cluster: the --redis-url host and --redis-addrs are seed nodes")
	fs.Var(addrList{&cfg.Redis.Addrs}, "redis-addrs", "more Sentinel or Cluster addresses, comma-separated host:port")
}

// addrList is a comma-separated list of host:port.
type addrList struct{ v *[]string }

func (a addrList) String() string {
	if a.v == nil {
		return ""
	}
	return strings.Join(*a.v, ",")
}

func (a addrList) Set(s string) error {
	*a.v = nil
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*a.v = append(*a.v, p)
		}
	}
	return nil
}

// openStore opens the store for an operator command, explaining the one
// error operators meet: the embedded store is held by a running forwarder.
func openStore(ctx context.Context, cfg *app.StoreConfig) (store.Store, error) {
	st, err := app.OpenStore(ctx, *cfg)
	if errors.Is(err, bolt.ErrInUse) {
		return nil, fmt.Errorf("%w\nthe embedded store is held by a running forwarder: stop it first (e.g. systemctl stop callforward), run the command, then start it again", err)
	}
	return st, err
}
