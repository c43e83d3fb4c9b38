package app

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/callforward/callforward/forwarder/store"
	"github.com/callforward/callforward/forwarder/store/bolt"
	"github.com/callforward/callforward/forwarder/store/redis"
)

// StoreConfig selects and tunes the backend.
type StoreConfig struct {
	DataDir     string        // embedded store directory (when RedisURL is empty)
	RedisURL    string        // redis:// or rediss:// URL: use the shared Redis store
	Redis       redis.Options // key prefix, Sentinel master name, Cluster
	DedupWindow time.Duration // how long each event of a Call.Sid is remembered
	Lease       time.Duration // claim lease
}

// OpenStore opens the backend cfg names: the shared Redis store when
// RedisURL is set, else the embedded bbolt store in DataDir.
func OpenStore(ctx context.Context, cfg StoreConfig) (store.Store, error) {
	opts := store.Options{DedupWindow: cfg.DedupWindow, Lease: cfg.Lease}
	if cfg.RedisURL != "" {
		st, err := redis.Open(ctx, cfg.RedisURL, opts, cfg.Redis)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	}
	st, err := bolt.Open(filepath.Join(cfg.DataDir, "callforward.db"), opts)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}

// mappedKeeper is a store that reads its data through a memory-mapped
// file and can keep the pages it has read out of the process's resident
// set: the embedded store (bolt.Store) is one, the Redis store is not.
// Run discovers it by a type assertion and starts it.
type mappedKeeper interface {
	// KeepMappedLow releases the mapped pages the process has read, as
	// they accumulate and once reading stops, until ctx is done.
	KeepMappedLow(ctx context.Context)
}

// The embedded store is a mappedKeeper by name: a renamed method fails the
// build instead of switching the keeper off.
var _ mappedKeeper = (*bolt.Store)(nil)

// StoreConfig returns the store part of c.
func (c Config) StoreConfig() StoreConfig {
	return c.Store
}
