package redis

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Options are the Redis-specific settings of Open.
type Options struct {
	// Prefix is the hash tag of every key: keys are named
	// "{Prefix}:name" (default DefaultPrefix). Stores with different
	// prefixes share a server without seeing each other. It must not
	// contain '{' or '}'.
	Prefix string
	// MasterName selects Redis Sentinel: the URL's host and Addrs are
	// Sentinels, and the store talks to the master they know under this
	// name. The URL's credentials and database are the master's.
	MasterName string
	// SentinelPassword authenticates to the Sentinels, when they require
	// it.
	SentinelPassword string
	// Cluster selects Redis Cluster: the URL's host and Addrs are seed
	// nodes. The URL must not name a database other than 0.
	Cluster bool
	// Addrs are more Sentinel or Cluster node addresses (host:port)
	// besides the URL's host. They are refused without MasterName or
	// Cluster.
	Addrs []string
}

// newClient builds the client o asks for; where describes the servers,
// for errors.
func newClient(rawURL string, o Options) (rdb goredis.UniversalClient, where string, err error) {
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, "", fmt.Errorf("prefix %q contains a brace", o.Prefix)
	}
	if o.MasterName != "" && o.Cluster {
		return nil, "", errors.New("both Sentinel (MasterName) and Cluster are set")
	}
	if len(o.Addrs) > 0 && o.MasterName == "" && !o.Cluster {
		return nil, "", errors.New("more addresses (Addrs) are for Sentinel or Cluster only")
	}
	opt, err := goredis.ParseURL(rawURL)
	if err != nil {
		// url.Parse quotes the whole URL, password included.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, "", fmt.Errorf("bad URL: %w", err)
	}
	// Let the caller's context bound every command, so that an outage
	// costs what the caller allows and no more.
	opt.ContextTimeoutEnabled = true
	if o.MasterName == "" && !o.Cluster {
		return goredis.NewClient(opt), opt.Addr, nil
	}
	if opt.Network != "tcp" {
		return nil, "", errors.New("a Sentinel or Cluster store needs a redis:// or rediss:// URL")
	}
	if o.Cluster && opt.DB != 0 {
		return nil, "", fmt.Errorf("cluster has only database 0, the URL names %d", opt.DB)
	}
	addrs := append([]string{opt.Addr}, o.Addrs...)
	uo := &goredis.UniversalOptions{
		Addrs:                 addrs,
		MasterName:            o.MasterName,
		IsClusterMode:         o.Cluster,
		DB:                    opt.DB,
		Protocol:              opt.Protocol,
		ClientName:            opt.ClientName,
		Username:              opt.Username,
		Password:              opt.Password,
		SentinelPassword:      o.SentinelPassword,
		MaxRetries:            opt.MaxRetries,
		MinRetryBackoff:       opt.MinRetryBackoff,
		MaxRetryBackoff:       opt.MaxRetryBackoff,
		DialTimeout:           opt.DialTimeout,
		ReadTimeout:           opt.ReadTimeout,
		WriteTimeout:          opt.WriteTimeout,
		ContextTimeoutEnabled: true,
		PoolFIFO:              opt.PoolFIFO,
		PoolSize:              opt.PoolSize,
		PoolTimeout:           opt.PoolTimeout,
		MinIdleConns:          opt.MinIdleConns,
		MaxIdleConns:          opt.MaxIdleConns,
		MaxActiveConns:        opt.MaxActiveConns,
		ConnMaxIdleTime:       opt.ConnMaxIdleTime,
		ConnMaxLifetime:       opt.ConnMaxLifetime,
		TLSConfig:             opt.TLSConfig,
	}
	kind := "sentinel"
	if o.Cluster {
		kind = "cluster"
	}
	return goredis.NewUniversalClient(uo), kind + " " + strings.Join(addrs, ","), nil
}
